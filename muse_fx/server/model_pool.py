"""The models a server holds: loaded once at start-up from the command line, then named by requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.registry import get_entry
from muse_fx.engine.weights import load_model, sha256_of
from muse_fx.errors import ModelError


@dataclass(frozen=True)
class ServedModel:
    name: str  # what requests send as `model`
    version: str  # registry version, or the file's sha256 prefix for a model given by path
    model: MuseModel


def _load(spec: str, device: torch.device) -> ServedModel:
    if spec.endswith(".safetensors"):
        path = Path(spec)
        model = load_model(path, device)  # checks the file first, so sha256_of only sees a readable file
        return ServedModel(path.stem, f"sha256:{sha256_of(path)[:12]}", model)
    entry = get_entry(spec)
    return ServedModel(entry.name, entry.version, load_model(entry.name, device))


def load_models(specs: Sequence[str], device: torch.device) -> dict[str, ServedModel]:
    """Registry names or .safetensors paths → models by name, the first being the default.

    Only the operator names files here; a request can only pick one of the names this returns.
    """
    served: dict[str, ServedModel] = {}
    for spec in specs:
        model = _load(str(spec), device)
        if model.name in served:
            raise ModelError(f"two models are both named {model.name!r} ({spec}); rename one of the files")
        served[model.name] = model
    if not served:
        raise ModelError("no model to serve; pass --model NAME_OR_PATH")
    return served
