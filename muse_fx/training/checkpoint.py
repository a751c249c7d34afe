"""Training checkpoints: everything needed to resume (models, optimisers, step, config), written atomically."""

from __future__ import annotations

from pathlib import Path

import torch

from muse_fx.atomic import atomic_path
from muse_fx.engine.model_config import ModelConfig
from muse_fx.engine.muse_model import MuseModel


def save_checkpoint(path: Path, state: dict) -> None:
    """A crash mid-write leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def model_from_checkpoint(path: Path, musecoder_from: Path | None = None) -> MuseModel:
    """The shippable part of a checkpoint (log-mel + mel2mel + musecoder), in eval mode on the CPU.

    `musecoder_from` takes the musecoder from another run of the same config: mel2mel and the musecoder train
    on different inputs (degraded vs clean mels), so two runs side by side can be joined.
    """
    state = load_checkpoint(path)
    model = MuseModel(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    if "mel2mel_ema" in state:  # trained with `ema_decay`: the average is what was validated
        average = state["mel2mel_ema"]  # an AveragedModel's: the module's weights and its update count
        model.mel2mel.load_state_dict({k.removeprefix("module."): v for k, v in average.items() if k != "n_averaged"})
    if musecoder_from and model.musecoder is not None:
        other = load_checkpoint(musecoder_from)
        if other["model_config"] != state["model_config"]:
            raise ValueError(f"{musecoder_from} was trained with a different model config than {path}")
        prefix = "musecoder."
        model.musecoder.load_state_dict(
            {k[len(prefix) :]: v for k, v in other["model"].items() if k.startswith(prefix)}
        )
    return model.eval()


def average_checkpoints(paths: list[Path]) -> dict:
    """Weight averaging along one run's trajectory (as in SWA): steadier than any single GAN checkpoint.

    The last checkpoint supplies everything else (step, optimisers, config); all must share one model config.
    """
    states = [load_checkpoint(p) for p in paths]
    if any(s["model_config"] != states[-1]["model_config"] for s in states):
        raise ValueError("checkpoints to average must share one model config")
    averaged = dict(states[-1])
    parts = ["model", "discriminator"]
    if all("mel2mel_ema" in s for s in states):
        parts.append("mel2mel_ema")
    else:  # export would take the last one's moving average over the average of the weights
        averaged.pop("mel2mel_ema", None)
    for part in parts:
        averaged[part] = {
            k: torch.stack([s[part][k].float() for s in states]).mean(0).to(v.dtype) if v.is_floating_point() else v
            for k, v in states[-1][part].items()
        }
    averaged["averaged_from"] = [str(p) for p in paths]
    return averaged
