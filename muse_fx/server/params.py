"""The form fields of POST /v1/enhance → which loaded model, which Settings, which output format.

A request may send each setting that shapes the sound (`muse_fx.settings.SOUND`); its declaration gives the
field's type, default and the 422 message for a bad value.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import FormData, UploadFile

from muse_fx.settings import MODEL, MUSECODER, SOUND, Setting, Settings

OUTPUT = Setting(
    "output", str, "float32", "WAV float32, or the upload's own container and subtype", choices=("float32", "same")
)
FIELDS = ("file", *(setting.name for setting in SOUND), OUTPUT.name)
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class EnhanceParams:
    model: str
    settings: Settings
    output: str


def reject(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def boolean(raw: str) -> bool:
    if raw.lower() not in TRUE + FALSE:
        raise ValueError(raw)
    return raw.lower() in TRUE


def _field(form: FormData, name: str, convert: Callable, default):
    raw = form.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, UploadFile):
        raise reject(f"form field {name!r} must be a value, not a file")
    try:
        return convert(raw)
    except ValueError:
        raise reject(f"form field {name}={raw!r} is not a valid {convert.__name__}") from None


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise reject(message)


def _setting(form: FormData, setting: Setting, default: Any = None) -> Any:
    """The field for `setting`, read as its type and checked by its declaration (a bad value is a 422);
    `default` (else the declared one) when the request leaves it out."""
    convert = boolean if setting.type is bool else setting.type
    value = _field(form, setting.name, convert, setting.default if default is None else default)
    try:
        return setting.check(value)
    except ValueError as error:
        raise reject(str(error)) from None


def _check_musecoder(model: str, musecoder: str, models: list[str], fast_only: Collection[str]) -> None:
    """Diffusion needs a model with a musecoder: a 422 that says which loaded ones have one, not a 500."""
    if musecoder != "diffusion" or model not in fast_only:
        return
    others = [name for name in models if name not in fast_only]
    alternative = f", or model={others[0]} (loaded with one)" if others else ""
    raise reject(
        f"model {model!r} has no musecoder (it renders with the fast path only); send musecoder=fast{alternative}"
    )


def parse_params(
    form: FormData, models: list[str], musecoder: str, batch: int, fast_only: Collection[str] = ()
) -> EnhanceParams:
    """Validate every field; `models` are the loaded names (the first is the default), never paths, and
    `fast_only` those without a musecoder. `musecoder` is this server's default (the fast path for a model
    without one) and `batch` the chunks a request offers per pass."""
    unknown = sorted(set(form) - set(FIELDS))
    _check(not unknown, f"unknown form field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    model = _setting(form, MODEL)
    model = models[0] if model == MODEL.default else model
    _check(model in models, f"model {model!r} is not loaded on this server; loaded: {', '.join(models)}")
    server_defaults = {MUSECODER.name: "fast" if model in fast_only else musecoder}
    chosen = {
        setting.name: _setting(form, setting, server_defaults.get(setting.name))
        for setting in SOUND
        if setting is not MODEL
    }
    _check_musecoder(model, chosen[MUSECODER.name], models, fast_only)
    return EnhanceParams(model, Settings(**chosen, batch_size=batch), _setting(form, OUTPUT))
