"""Client for `muse-fx serve`: the one way the CLI, `MuseEnhance(server=…)` and scripts talk to a server.

It never falls back to local inference by itself; callers decide that (`fallback_local=True`, `--fallback-local`)
and say so.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf

from muse_fx.backends.bearer_token import TOKEN_ENV, resolve_token
from muse_fx.errors import AudioInputError, MuseFxError, install_hint
from muse_fx.io.atomic import atomic_path

try:
    import httpx
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"muse_fx.backends.client needs httpx; install the server extra {install_hint('server')}"
    ) from error

T = TypeVar("T")
# Failures where the request may not have reached the server, or the server went away: worth another try.
RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is capped rather than trusted blindly


class ServerError(MuseFxError):
    """The muse-fx server could not do what was asked."""


class ServerUnreachableError(ServerError, ConnectionError):
    """Nothing answered at the URL; `reason` is what the connection attempt ran into."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        unreachable = f"cannot reach muse-fx server at {url} ({reason}): is `muse-fx serve` running there? check"
        super().__init__(
            f"{unreachable} the URL and port, or pass fallback_local=True to MuseEnhance to enhance on this machine",
            command_line=f"{unreachable} the URL and port, or add --fallback-local to enhance on this machine instead",
        )


class ServerAuthError(ServerError, PermissionError):
    """The server wants a (different) bearer token."""


class ServerBusyError(ServerError):
    """The server's queue stayed full through every retry."""


class UploadTooLargeError(ServerError):
    """The upload is over the server's size or duration limit."""


class ServerRejectedError(ServerError, ValueError):
    """The server could not process the audio or the parameters as sent."""


def _json(response: httpx.Response):
    response.read()
    return response.json()


def _detail(response: httpx.Response) -> str:
    response.read()
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip() or response.reason_phrase


def _auth_error(url: str, token_sent: bool) -> ServerAuthError:
    """Clients take the token from $MUSE_FX_TOKEN (or `token=` in Python): the one place every client reads."""
    if token_sent:
        return ServerAuthError(
            f"the server at {url} refused the token: set {TOKEN_ENV} to the token the server was started with "
            f"(e.g. {TOKEN_ENV}=$(cat <the server's --token-file>))"
        )
    return ServerAuthError(
        f"the server at {url} requires a token and none was sent: set {TOKEN_ENV} to the token the server was "
        f"started with (e.g. {TOKEN_ENV}=$(cat <the server's --token-file>))"
    )


def _raise_for(response: httpx.Response, url: str, token_sent: bool) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response)
    if status == 401:
        raise _auth_error(url, token_sent)
    if status == 413:
        raise UploadTooLargeError(f"the server refused the upload as too large: {detail}")
    if status == 503:
        raise ServerBusyError(f"the server stayed busy through every retry: {detail}")
    if status in (400, 422):
        raise ServerRejectedError(f"the server rejected the request: {detail}")
    raise ServerError(f"the server answered {status} {response.reason_phrase}: {detail}")


class ServerClient:
    """Talks to one server. `token` defaults to $MUSE_FX_TOKEN; `timeout` (s) bounds each network wait;
    503s and connection failures are retried `retries` times with exponential backoff (Retry-After honoured)."""

    def __init__(
        self, url: str, token: str | None = None, timeout: float = 600.0, retries: int = 3, backoff: float = 0.5
    ):
        self.url = url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        token = token if token is not None else resolve_token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=httpx.Timeout(timeout, connect=10.0))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff * 2**attempt
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
        time.sleep(delay)

    def _call(
        self, method: str, path: str, on_ok: Callable[[httpx.Response], T], request: Callable[[ExitStack], dict]
    ) -> T:
        """Send the httpx arguments `request(stack)` builds (anew per attempt, so uploads are re-read from the
        start; files it opens go on `stack`), retrying what is worth retrying; `on_ok` reads the answer."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            retry_after = None
            try:
                with ExitStack() as stack, self._http.stream(method, path, **request(stack)) as response:
                    if response.status_code != 503 or last:
                        _raise_for(response, self.url, "Authorization" in self._http.headers)
                        return on_ok(response)
                    retry_after = response.headers.get("Retry-After")
            except RETRYABLE as error:
                if last:
                    raise ServerUnreachableError(self.url, str(error) or type(error).__name__) from error
            except httpx.TimeoutException as error:
                raise ServerError(
                    f"the server at {self.url} did not answer within {self._http.timeout.read:g} s; "
                    "raise the client's timeout or send a shorter clip"
                ) from error
            self._wait(attempt, retry_after)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def health(self) -> dict:
        """{"ready", "device", "version", "models": {name: version}, "requests", "batching"}."""
        return self._call("GET", "/health", _json, lambda stack: {})

    def models(self) -> list[dict]:
        """[{"name", "version", "sample_rate"}], the server's default first."""
        return self._call("GET", "/v1/models", _json, lambda stack: {})["models"]

    def enhance_file(self, source: str | os.PathLike, destination: str | os.PathLike, **params) -> Path:
        """Enhance a WAV/FLAC file into `destination`, streaming both ways; returns `destination`.

        params: the settings of muse_fx.settings.SOUND, and output ("same": the source's format and subtype, the
        default here; "float32": WAV float32). The file appears only once complete (temp file + rename).
        """
        source, destination = Path(source), Path(destination)
        if not source.is_file():
            raise AudioInputError(f"{source} does not exist or is not a file")
        fields = {k: str(v) for k, v in {"output": "same", **params}.items()}

        def request(stack: ExitStack) -> dict:
            return {"files": {"file": (source.name, stack.enter_context(open(source, "rb")))}, "data": fields}

        def save(response: httpx.Response) -> Path:
            with atomic_path(destination) as temp, open(temp, "wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
            return destination

        return self._call("POST", "/v1/enhance", save, request)

    def enhance_array(self, audio: np.ndarray, sample_rate: int, **params) -> np.ndarray:
        """(channels, samples) float audio at `sample_rate` Hz → enhanced (channels, samples) float32.

        params: the settings of muse_fx.settings.SOUND. Travels as WAV float32, so nothing is lost.
        """
        audio = np.asarray(audio)
        if audio.ndim != 2:
            raise AudioInputError(f"audio must be (channels, samples), got shape {audio.shape}")
        payload = io.BytesIO()
        sf.write(payload, audio.T.astype(np.float32), int(sample_rate), subtype="FLOAT", format="WAV")
        fields = {k: str(v) for k, v in {**params, "output": "float32"}.items()}

        def request(stack: ExitStack) -> dict:
            return {"files": {"file": ("audio.wav", io.BytesIO(payload.getvalue()), "audio/wav")}, "data": fields}

        def load(response: httpx.Response) -> np.ndarray:
            enhanced, _ = sf.read(io.BytesIO(response.read()), dtype="float32", always_2d=True)
            return np.ascontiguousarray(enhanced.T)

        return self._call("POST", "/v1/enhance", load, request)
