"""Checkpoint → shippable safetensors (no discriminator, no optimiser) + its registry.toml entry."""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path

import tomli_w
import torch

from muse_fx.engine.weights import save_model, sha256_of
from muse_fx.io.atomic import atomic_path
from muse_fx.training.checkpoint import model_from_runs, read_runs
from muse_fx.training.train_config import DATA_MAKERS


def _describe(state: dict) -> str:
    optim = state["train_config"]["optim"]
    preset = state["train_config"]["preset"]
    run = f"muse-fx train {state['mode']} ({preset}) {state['step']} steps, batch {optim['batch_size']}"
    if state["mode"] == "musecoder":
        return f"{run} × {optim['musecoder_segment_seconds']} s, lr {optim['lr']}"
    return f"{run}, lr {optim['lr']}, λ_L1 {optim['lambda_l1']}, λ_fast {optim['lambda_fast']}"


def _data(data: dict) -> str:
    """The run's data by the names the configs give it, relative to the data folder: the weights ship, so they must
    not carry a folder of the machine that trained them."""
    named = [f"{Path(data[key]).name} ({maker})" for key, maker in DATA_MAKERS.items() if data.get(key)]
    return "data " + ", ".join(named if data.get("clean") else ["synthetic tones", *named])


def _default_recipe(state: dict, musecoder_state: dict | None, high_band_state: dict | None) -> str:
    runs = _describe(state) + (f"; musecoder from {_describe(musecoder_state)}" if musecoder_state else "")
    runs += f"; high half from {_describe(high_band_state)}" if high_band_state else ""
    return f"{runs}; {_data(state['train_config']['data'])}, degradations drawn on the fly"


def export_checkpoint(
    checkpoint: Path,
    folder: Path,
    name: str,
    version: str,
    fp16: bool = False,
    recipe: str = "",
    hardware: str = "",
    card: str = "",
    musecoder_from: Path | None = None,
    high_band_from: Path | None = None,
) -> dict:
    """Write `<name>-<version>.safetensors` into `folder` → the registry entry as a plain dict."""
    runs = read_runs(checkpoint, musecoder_from, high_band_from)
    model = model_from_runs(*runs)
    file = f"{name}-{version}.safetensors"
    recipe = recipe or _default_recipe(*runs)
    date = datetime.date.today().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = save_model(
        model, folder / file, torch.float16 if fp16 else torch.float32, name=name, version=version, recipe=recipe
    )
    path.chmod(0o644)  # written via a private temp file; a packaged data file must be world-readable
    return {
        "name": name,
        "version": version,
        "file": file,
        "sha256": sha256_of(path),
        "sample_rate": model.sample_rate,
        "recipe": recipe,
        "date": date,
        "hardware": hardware,
        "card": card,
        "config": model.config.to_dict(),
    }


def entry_toml(entry: dict) -> str:
    return tomli_w.dumps({"model": [entry]})


def add_to_registry(registry: Path, entry: dict, make_default: bool) -> dict:
    """Replace any entry of the same name, keep the others; set `default` when asked or when none is set.

    A replaced entry's `default_musecoder` (the per-device choice measured for the model) carries over unless
    the new entry sets its own. Returns the entry as written.
    """
    data = tomllib.loads(registry.read_text()) if registry.exists() else {}
    replaced: dict = next((m for m in data.get("model", []) if m["name"] == entry["name"]), {})
    if "default_musecoder" in replaced:
        entry = {"default_musecoder": replaced["default_musecoder"], **entry}
    models = [m for m in data.get("model", []) if m["name"] != entry["name"]] + [entry]
    default = entry["name"] if make_default or "default" not in data else data["default"]
    with atomic_path(registry) as tmp:  # the registry ships with the package: never leave it half-written
        tmp.write_text(tomli_w.dumps({"default": default, "model": models}))
    return entry
