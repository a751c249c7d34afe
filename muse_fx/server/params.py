"""The form fields of POST /v1/enhance → which loaded model, which Settings, which output format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.datastructures import FormData, UploadFile

from muse_fx.engine.pipeline import Settings
from muse_fx.parameters import check_mix, check_musecoder, check_seed, check_steps, check_strength

OUTPUTS = ("float32", "same")  # WAV float32, or the upload's own container and subtype
FIELDS = ("file", "model", "musecoder", "steps", "mix", "strength", "seed", "full_band", "output")
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


def _valid(check: Callable, value):
    """The shared checks (muse_fx.parameters) raise ValueError; here that is a 422."""
    try:
        return check(value)
    except ValueError as error:
        raise reject(str(error)) from None


def parse_params(form: FormData, models: list[str], musecoder: str, batch: int) -> EnhanceParams:
    """Validate every field; `models` are the loaded names (the first is the default), never paths."""
    unknown = sorted(set(form) - set(FIELDS))
    _check(not unknown, f"unknown form field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    model = _field(form, "model", str, "default")
    model = models[0] if model == "default" else model
    _check(model in models, f"model {model!r} is not loaded on this server; loaded: {', '.join(models)}")
    coder = _valid(check_musecoder, _field(form, "musecoder", str, musecoder))
    steps = _valid(check_steps, _field(form, "steps", int, 6))
    mix = _valid(check_mix, _field(form, "mix", float, 1.0))
    strength = _valid(check_strength, _field(form, "strength", float, 1.0))
    seed = _valid(check_seed, _field(form, "seed", int, 0))
    full_band = _field(form, "full_band", boolean, True)
    output = _field(form, "output", str, "float32")
    _check(output in OUTPUTS, f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    settings = Settings(coder, steps, mix, seed, full_band, batch, strength=strength)
    return EnhanceParams(model, settings, output)
