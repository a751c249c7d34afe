"""A tiny random-init model that lives in the tests only (like demucs' `demucs_unittest`): every code path, in ms."""

import dataclasses
from pathlib import Path

import torch

from muse_fx.engine.model_config import TINY
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.weights import save_model


def save_tiny_model(path: Path, seed: int = 0, musecoder: bool = True) -> Path:
    """`musecoder=False`: a fast-path-only model, as the bundled default (full-band) is."""
    torch.manual_seed(seed)
    return save_model(MuseModel(TINY if musecoder else dataclasses.replace(TINY, musecoder=None)), path)
