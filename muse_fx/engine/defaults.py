"""What runs when the user does not say: the musecoder that suits a model on a device."""

from __future__ import annotations

import os

import torch

from muse_fx.engine.registry import get_entry
from muse_fx.engine.weights import names_a_file
from muse_fx.errors import ModelError


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
