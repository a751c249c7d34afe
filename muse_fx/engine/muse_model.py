"""The enhancement model as one object: log-mel front-end + mel2mel generator + musecoder."""

from __future__ import annotations

from torch import nn

from muse_fx.engine.mel import LogMel
from muse_fx.engine.mel2mel import make_generator
from muse_fx.engine.model_config import ModelConfig
from muse_fx.engine.musecoder import Musecoder


class MuseModel(nn.Module):
    """What a weights file holds. The discriminator is a training-only part and is not shipped."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        self.log_mel = LogMel(config.mel)
        self.mel2mel = make_generator(config.mel2mel)
        self.musecoder = Musecoder(config.musecoder, config.mel) if config.musecoder else None

    @property
    def sample_rate(self) -> int:
        return self.config.mel.sample_rate
