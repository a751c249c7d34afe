"""What runs when the user does not say: the musecoder that suits a model on a device, and the batch size."""

from __future__ import annotations

import os

import torch

from muse_fx.engine.registry import get_entry
from muse_fx.engine.weights import names_a_file
from muse_fx.errors import ModelError
from muse_fx.settings import Settings, default_batch_size


def default_musecoder(device: torch.device, model: str | os.PathLike | torch.nn.Module = "default") -> str:
    """What the registry measured best for this model on this kind of device; otherwise diffusion where a GPU
    makes it fast enough and the fast path on CPU (see README, "Choosing a musecoder")."""
    if isinstance(model, str) and not names_a_file(model):
        try:
            measured = get_entry(model).default_musecoder
        except ModelError:
            measured = {}
        if device.type in measured:
            return measured[device.type]
    return "fast" if device.type == "cpu" else "diffusion"


def settings_for(
    device: torch.device,
    model: str | os.PathLike | torch.nn.Module,
    musecoder: str | None = None,
    batch_size: int | None = None,
    **settings,
) -> Settings:
    """`Settings` for `model` on `device`: the musecoder and batch size left out (None) follow the model and the
    device; `settings` are the other `Settings` fields. Enhancer.from_pretrained and MuseEnhance both ask here."""
    musecoder = musecoder or default_musecoder(device, model)
    batch_size = batch_size or default_batch_size(device.type, musecoder)
    return Settings(musecoder=musecoder, batch_size=batch_size, **settings)
