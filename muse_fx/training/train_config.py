"""Training settings as dataclasses, read from TOML: `[model]`, `[data]` (+ `[data.degrade]`), `[train]`.

Data paths in a config are relative to a data folder (`--data`, or $MUSE_FX_DATA), so the bundled configs run
on any machine that has made the data with `muse-fx data …`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from muse_fx.engine.model_config import (
    CPU_SMALL,
    FULL_BAND,
    FULL_BAND_SINGLE,
    FULL_BAND_WIDE,
    PAPER,
    TINY,
    ModelConfig,
)
from muse_fx.errors import TrainingConfigError
from muse_fx.training.data import DataConfig
from muse_fx.training.degrade.chain import DegradeConfig

MODEL_SIZES = {
    "paper": PAPER,
    "cpu_small": CPU_SMALL,
    "full_band": FULL_BAND,
    "full_band_wide": FULL_BAND_WIDE,
    "full_band_single": FULL_BAND_SINGLE,
    "tiny": TINY,
}
CONFIG_DIR = Path(__file__).parent / "configs"
DATA_ENV = "MUSE_FX_DATA"
DATA_MAKERS = {
    "clean": "muse-fx data render",
    "rirs": "muse-fx data rirs",
    "babble": "muse-fx data babble",
    "real": "muse-fx data real",
    "noises": "muse-fx data noises",
}


@dataclass(frozen=True)
class OptimConfig:
    steps: int = 10000
    batch_size: int = 16
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Pix2Pix's; DiffWave uses Adam defaults, close enough here
    lambda_l1: float = 100.0  # Pix2Pix's weight of the L1 term against the LSGAN term
    lambda_fast: float = 0.0  # weight of the fast-path loss: L1 of log-mel(apply_mel_gain(…)) vs clean
    lambda_mrstft: float = 0.0  # weight of the MR-STFT distance of the fast path's waveform from the clean
    lambda_under: float = 0.0  # weight of the over-suppression penalty: output below the clean, in log magnitude
    under_quiet_weight: float = 0.0  # … weighted up to 1 + this in frames 30 dB below the clip's loudest (decays)
    under_low_weight: float = 0.0  # … and 1 + this in bins below under_low_hz (low strings)
    under_low_hz: float = 500.0
    lambda_balance: float = 0.0  # weight of the L1 between the fast path's and the clean's long-term mel spectrum
    lambda_darkening: float = 0.0  # weight of the fast path's shortfall of energy share above 8 kHz, in dB
    lambda_brightening: float = 0.0  # … and of its excess, which darkening alone teaches the model to trade for
    discriminator_lr_scale: float = 1.0  # the discriminator learns at lr × this: below 1 when it overpowers G
    lambda_mel_joint: float = 0.0  # joint mode: keep mel2mel's L1 alongside the diffusion loss
    musecoder_segment_seconds: float = 0.512  # waveform-rate network: shorter segments than mel2mel's
    alternate: int = 0  # mode "both": this many mel2mel steps, then as many musecoder steps; 0 = not used
    grad_clip: float = 1.0
    ema_decay: float = 0.0  # also keep mel2mel's weights as a moving average (e.g. 0.999), validated and exported
    device: str = "auto"
    threads: int = 2
    seed: int = 0
    log_every: int = 10
    validate_every: int = 200
    checkpoint_every: int = 200
    validation_batches: int = 4
    keep_every: int = 0  # also keep checkpoint-<step>.pt every this many steps (for `train average`); 0 = never
    reload_every: int = 0  # re-read the manifest every this many steps (while a render is still running)


@dataclass(frozen=True)
class TrainConfig:
    preset: str = "cpu_small"
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    @property
    def model(self) -> ModelConfig:
        return MODEL_SIZES[self.preset]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _build(cls, values: dict):
    """Nested dataclass from a dict; unknown keys fail loudly, lists become tuples."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(names)
    if unknown:
        raise TrainingConfigError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    kwargs = {}
    for key, value in values.items():
        nested = {"degrade": DegradeConfig}.get(key) if cls is DataConfig else None
        kwargs[key] = _build(nested, value) if nested else tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def config_path(name: str | Path) -> Path:
    """A TOML file, or the name of a bundled one in training/configs/."""
    path = Path(name)
    if path.exists():
        return path
    if (CONFIG_DIR / f"{name}.toml").exists():
        return CONFIG_DIR / f"{name}.toml"
    bundled = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.toml")))
    raise TrainingConfigError(f"no training config {str(name)!r}: give a TOML file or one of {bundled}")


def _data_paths(data: dict, root: Path | None) -> dict:
    """`data`'s relative paths joined to `root`; without a root they stay relative (checked by `check_data`)."""
    if root is None:
        return data
    return {k: str(root / v) if k in DATA_MAKERS and v and not Path(v).is_absolute() else v for k, v in data.items()}


def load_config(name: str | Path, overrides: dict | None = None, data: Path | None = None) -> TrainConfig:
    """A config (see `config_path`) → TrainConfig; `overrides` patch [train] keys, `data` (default
    $MUSE_FX_DATA) is the folder its relative data paths live in."""
    path = config_path(name)
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise TrainingConfigError(f"{path} is not valid TOML: {error}") from None
    preset = raw.get("model", {}).get("preset", "cpu_small")
    if preset not in MODEL_SIZES:
        raise TrainingConfigError(f"{path}: unknown model size {preset!r}; choose from {sorted(MODEL_SIZES)}")
    root = data or (Path(os.environ[DATA_ENV]) if os.environ.get(DATA_ENV) else None)
    optim = {**raw.get("train", {}), **(overrides or {})}
    data_config = _build(DataConfig, _data_paths(raw.get("data", {}), root))
    return TrainConfig(preset, data_config, _build(OptimConfig, optim))


def check_data(config: TrainConfig) -> None:
    """Fail before training starts, naming the missing data and the command that makes it."""
    for key, maker in DATA_MAKERS.items():
        value = getattr(config.data, key)
        if not value:
            continue
        if not Path(value).is_absolute():
            raise TrainingConfigError(
                f"the config's {key} data {value!r} is relative to a data folder: pass --data FOLDER or set {DATA_ENV}"
            )
        if not Path(value).exists():
            raise TrainingConfigError(
                f"{key} data {value} does not exist; make it with `{maker} …` or point "
                f"--data at the folder that holds it"
            )
