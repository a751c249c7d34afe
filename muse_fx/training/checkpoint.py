"""Training checkpoints: everything needed to resume (models, optimisers, step, config), written atomically."""

from __future__ import annotations

from pathlib import Path

import torch

from muse_fx.engine.model_config import ModelConfig
from muse_fx.engine.muse_model import MuseModel
from muse_fx.errors import ModelError
from muse_fx.io.atomic import atomic_path


def save_checkpoint(path: Path, state: dict) -> None:
    """A crash mid-write leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def _part(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The weights of one submodule, named as the submodule names them."""
    return {k.removeprefix(prefix): v for k, v in weights.items() if k.startswith(prefix)}


def _generator_weights(state: dict) -> dict[str, torch.Tensor]:
    """The mel2mel weights export ships: the moving average when the run kept one (it is what was validated)."""
    if "mel2mel_ema" in state:  # an AveragedModel's: the module's weights and its update count
        return _part({k: v for k, v in state["mel2mel_ema"].items() if k != "n_averaged"}, "module.")
    return _part(state["model"], "mel2mel.")


def training_checkpoint(path: Path) -> dict:
    """A checkpoint `muse-fx train` wrote, or a ModelError that says what the file is not."""
    try:
        state = load_checkpoint(path)
    except Exception:  # torch.load's failures range from pickle errors to zip errors
        state = None
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


def read_runs(
    path: Path, musecoder_from: Path | None = None, high_band_from: Path | None = None
) -> tuple[dict, dict | None, dict | None]:
    """A checkpoint and those that give it a part, each read once and checked to fit → their states."""
    state = training_checkpoint(path)
    config = ModelConfig.from_dict(state["model_config"])
    if musecoder_from and config.musecoder is None:
        raise ModelError(f"{path} is of a preset without a musecoder (fast path only), so none can join it")
    if high_band_from and not config.mel2mel.split_band:
        raise ModelError(
            f"{path} has one generator for every band, so there is no high half to replace; "
            "--high-band applies to split presets such as full_band"
        )
    musecoder = _other_run(path, musecoder_from, state, "musecoder") if musecoder_from else None
    high_band = _other_run(path, high_band_from, state, "high half") if high_band_from else None
    return state, musecoder, high_band


def model_from_runs(state: dict, musecoder: dict | None = None, high_band: dict | None = None) -> MuseModel:
    """The shippable part of a run (log-mel + mel2mel + musecoder), in eval mode on the CPU.

    `musecoder` gives the musecoder of another run of the same config: mel2mel and the musecoder train on different
    inputs (degraded vs clean mels), so two runs side by side can be joined. `high_band` gives a split generator's
    upper half the same way: the halves share no weights and see disjoint bands, so each can come from the recipe
    that measured best for its bands.
    """
    model = MuseModel(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    model.mel2mel.load_state_dict(_generator_weights(state))
    if musecoder:
        model.get_submodule("musecoder").load_state_dict(_part(musecoder["model"], "musecoder."))
    if high_band:
        model.mel2mel.get_submodule("high").load_state_dict(_part(_generator_weights(high_band), "high."))
    return model.eval()


def model_from_checkpoint(
    path: Path, musecoder_from: Path | None = None, high_band_from: Path | None = None
) -> MuseModel:
    return model_from_runs(*read_runs(path, musecoder_from, high_band_from))


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
