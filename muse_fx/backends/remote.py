"""Enhancement on a `muse-fx serve` instance through `client`, falling back to this machine on request."""

from __future__ import annotations

import warnings

import torch

from muse_fx.backends.local import LocalEnhancement
from muse_fx.engine.chunking import StreamingOverlapAdd
from muse_fx.engine.feeder import Progress
from muse_fx.errors import AudioInputError, MuseFxWarning
from muse_fx.settings import ADDED_LATER, MODEL, MUSECODER, RENDERING, Settings


class RemoteEnhancement:
    """Sends whole recordings to the server at `url`. When it cannot be reached, `fallback` (if given) enhances
    here instead, with a warning. `server_musecoder`: the user left the musecoder open, so the server applies
    its own default (measured for its device, not this one)."""

    streams = False

    def __init__(
        self,
        url: str,
        model: str = MODEL.default,
        server_musecoder: bool = False,
        fallback: LocalEnhancement | None = None,
        token: str | None = None,
    ):
        self.url, self.model, self.server_musecoder, self.fallback = url, model, server_musecoder, fallback
        self.token = token  # None: ServerClient reads $MUSE_FX_TOKEN

    def _fields(self, settings: Settings) -> dict:
        """The form fields for `settings`: each setting in `RENDERING` (those ADDED_LATER only when not at their
        default), the musecoder unless the server picks it, the model unless it is the server's default."""
        fields = {
            setting.name: getattr(settings, setting.name)
            for setting in RENDERING
            if setting not in ADDED_LATER or getattr(settings, setting.name) != setting.default
        }
        if self.server_musecoder:
            del fields[MUSECODER.name]
        if self.model != MODEL.default:
            fields[MODEL.name] = self.model
        return fields

    def enhance(
        self, audio: torch.Tensor, sample_rate: int, settings: Settings, progress: Progress | None = None
    ) -> torch.Tensor:
        from muse_fx.backends.client import ServerClient, ServerUnreachableError  # needs httpx: muse-fx[server]

        try:
            with ServerClient(self.url, token=self.token) as client:
                return torch.from_numpy(client.enhance_array(audio.numpy(), sample_rate, **self._fields(settings)))
        except ServerUnreachableError as error:
            if self.fallback is None:
                raise
            warnings.warn(
                f"cannot reach muse-fx server at {error.url} ({error.reason}); enhancing on this machine instead "
                "(--fallback-local)",
                MuseFxWarning,
                stacklevel=3,
            )
            return self.fallback.enhance(audio, sample_rate, settings, progress)

    def stream(self, channels: int, sample_rate: int, settings: Settings) -> StreamingOverlapAdd:
        raise AudioInputError(
            "streaming (reset=False) runs locally only; with server=… pass whole recordings (reset=True)"
        )
