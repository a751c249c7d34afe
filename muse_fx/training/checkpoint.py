"""Training checkpoints: everything needed to resume (models, optimisers, step, config), written atomically."""

from __future__ import annotations

from pathlib import Path

import torch

from muse_fx.atomic import atomic_path
from muse_fx.engine.mel2mel import SplitGenerator
from muse_fx.engine.model_config import ModelConfig
from muse_fx.engine.muse_model import MuseModel
from muse_fx.errors import ModelError


def save_checkpoint(path: Path, state: dict) -> None:
    """A crash mid-write leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def _generator_weights(state: dict) -> dict[str, torch.Tensor]:
    """The mel2mel weights export ships: the moving average when the run kept one (it is what was validated)."""
    if "mel2mel_ema" in state:  # an AveragedModel's: the module's weights and its update count
        return {k.removeprefix("module."): v for k, v in state["mel2mel_ema"].items() if k != "n_averaged"}
    return {k.removeprefix("mel2mel."): v for k, v in state["model"].items() if k.startswith("mel2mel.")}


def training_checkpoint(path: Path) -> dict:
    """A checkpoint `muse-fx train` wrote, or a ModelError that says what the file is not."""
    try:
        state = load_checkpoint(path)
    except Exception as error:  # torch.load's failures range from pickle errors to zip errors
        state = {"error": error}
    if not isinstance(state, dict) or "model_config" not in state:
        raise ModelError(
            f"{path} is not a training checkpoint; pass a checkpoint-<step>.pt or checkpoint.pt from a "
            "`muse-fx train` run folder (an exported .safetensors model cannot be continued or joined)"
        )
    return state


def _other_run(path: Path, other: Path, state: dict, what: str) -> dict:
    other_state = training_checkpoint(other)
    if other_state["model_config"] != state["model_config"]:
        raise ModelError(
            f"{other} was trained with a different model config than {path}, so its {what} cannot join it; "
            "pass a checkpoint of a run with the same preset"
        )
    return other_state


def model_from_checkpoint(
    path: Path, musecoder_from: Path | None = None, high_band_from: Path | None = None
) -> MuseModel:
    """The shippable part of a checkpoint (log-mel + mel2mel + musecoder), in eval mode on the CPU.

    `musecoder_from` takes the musecoder from another run of the same config: mel2mel and the musecoder train
    on different inputs (degraded vs clean mels), so two runs side by side can be joined. `high_band_from` takes a
    split generator's upper half the same way: the halves share no weights and see disjoint bands, so each can come
    from the recipe that measured best for its bands.
    """
    state = training_checkpoint(path)
    model = MuseModel(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    model.mel2mel.load_state_dict(_generator_weights(state))
    if musecoder_from:
        if model.musecoder is None:
            raise ModelError(f"{path} is of a preset without a musecoder (fast path only), so none can join it")
        other = _other_run(path, musecoder_from, state, "musecoder")
        prefix = "musecoder."
        model.musecoder.load_state_dict(
            {k[len(prefix) :]: v for k, v in other["model"].items() if k.startswith(prefix)}
        )
    if high_band_from:
        if not isinstance(model.mel2mel, SplitGenerator):
            raise ModelError(
                f"{path} has one generator for every band, so there is no high half to replace; "
                "--high-band applies to split presets such as full_band"
            )
        other = _other_run(path, high_band_from, state, "high half")
        prefix = "high."
        model.mel2mel.high.load_state_dict(
            {k[len(prefix) :]: v for k, v in _generator_weights(other).items() if k.startswith(prefix)}
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
