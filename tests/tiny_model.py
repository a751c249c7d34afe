"""A tiny random-init model that lives in the tests only (like demucs' `demucs_unittest`): every code path, in ms."""

from pathlib import Path

import torch

from muse_fx.config import Mel2MelConfig, ModelConfig, MusecoderConfig
from muse_fx.model import MuseModel
from muse_fx.weights import save_model

TINY = ModelConfig(
    mel2mel=Mel2MelConfig(ngf=4, n_blocks=1, ndf=4),
    musecoder=MusecoderConfig(residual_channels=4, residual_layers=2, dilation_cycle=2),
)


def save_tiny_model(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    return save_model(MuseModel(TINY), path)
