"""The table of bundled models: each entry names its weights file, version, checksum and training recipe.

Weights are versioned data: a new training run adds a new file and entry; old versions stay in git history.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from muse_fx.engine.model_config import ModelConfig
from muse_fx.errors import ModelError

MODELS_DIR = Path(__file__).parents[1] / "bundled_models"
REGISTRY_FILE = MODELS_DIR / "registry.toml"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    version: str
    file: str
    sha256: str
    sample_rate: int
    config: ModelConfig
    recipe: str
    date: str
    hardware: str = ""
    card: str = ""
    # Measured best musecoder per device type ("cpu", "cuda", "mps"); absent types use the engine's rule.
    default_musecoder: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.file


def _read_registry() -> tuple[str | None, dict[str, ModelEntry]]:
    if not REGISTRY_FILE.exists():
        return None, {}
    data = tomllib.loads(REGISTRY_FILE.read_text())
    entries = {}
    for raw in data.get("model", []):
        raw = dict(raw)
        raw["config"] = ModelConfig.from_dict(raw.get("config", {}))
        entries[raw["name"]] = ModelEntry(**raw)
    return data.get("default"), entries


def list_models() -> list[ModelEntry]:
    return list(_read_registry()[1].values())


def default_model_name() -> str | None:
    return _read_registry()[0]


def get_entry(name: str) -> ModelEntry:
    """Look a bundled model up by name; "default" means the registry's chosen default."""
    default, entries = _read_registry()
    if name == "default":
        if default is None:
            raise ModelError(
                "no default model is bundled with this copy of muse_fx "
                f"({REGISTRY_FILE} names none); pass model=<path to a .safetensors file> or train one "
                "with `muse-fx train`"
            )
        name = default
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ModelError(f"unknown model {name!r}; bundled models: {known}; or pass a path to a .safetensors file")
    return entries[name]
