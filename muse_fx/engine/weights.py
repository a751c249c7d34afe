"""Saving and loading model weights as safetensors, with checks that say which file is wrong and why."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from muse_fx.engine.model_config import ModelConfig
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.registry import ModelEntry, get_entry
from muse_fx.errors import ModelError, install_hint
from muse_fx.io.atomic import atomic_path

FORMAT = "muse_fx/1"
REINSTALL = f"restore it with `git checkout -- muse_fx/bundled_models` and reinstall {install_hint()}"


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _sorted_metadata(blob: bytes) -> bytes:
    """A safetensors file with its metadata in key order. safetensors writes it in hash order, which changes at
    every call, so the same weights would get a new file and sha256 at each export."""
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(text) <= size, "the reordered header is as long as safetensors' own"
    return blob[:8] + text.ljust(size) + blob[8 + size :]  # safetensors pads its header with spaces too


def save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> Path:
    """Write `tensors` and `metadata` as safetensors, the same bytes for the same input; written to a temp file
    then renamed, so a crash leaves no half file."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(_sorted_metadata(save(tensors, metadata=metadata)))
    return path


def save_model(model: MuseModel, path: str | Path, dtype: torch.dtype = torch.float32, **metadata: str) -> Path:
    """Write the model's weights and config (see `save_tensors`)."""
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "config": json.dumps(model.config.to_dict()), **metadata}
    return save_tensors(tensors, Path(path), meta)


def _read(path: Path) -> tuple[dict[str, torch.Tensor], ModelConfig]:
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist; check the path or reinstall muse_fx")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(
            f"model file {path} is not a readable safetensors file ({error}); re-download or re-export it"
        ) from None
    if meta.get("format") != FORMAT or "config" not in meta:
        raise ModelError(f"model file {path} has no muse_fx config in its metadata; it was not saved by muse_fx")
    return tensors, ModelConfig.from_dict(json.loads(meta["config"]))


def _build(path: Path, tensors: dict[str, torch.Tensor], config: ModelConfig) -> MuseModel:
    model = MuseModel(config)
    expected = model.state_dict()
    for key, tensor in tensors.items():
        if key in expected and expected[key].shape != tensor.shape:
            raise ModelError(
                f"model file {path}: tensor {key} has shape {tuple(tensor.shape)} but the config expects "
                f"{tuple(expected[key].shape)}; the file does not match its config"
            )
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    if missing or unexpected:
        raise ModelError(
            f"model file {path} does not match its config: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    return model


def load_entry(entry: ModelEntry) -> MuseModel:
    """Load a bundled model, verifying checksum and config against the registry."""
    if not entry.path.is_file():
        raise ModelError(f"bundled model file {entry.path} is missing; {REINSTALL}")
    digest = sha256_of(entry.path)
    if digest != entry.sha256:
        raise ModelError(
            f"model file {entry.path} is corrupt: sha256 {digest[:12]}… does not match the registry's "
            f"{entry.sha256[:12]}…; {REINSTALL}"
        )
    tensors, config = _read(entry.path)
    if config != entry.config:
        raise ModelError(f"model file {entry.path}: its config differs from the registry entry {entry.name!r}")
    return _build(entry.path, tensors, config)


def names_a_file(model) -> bool:
    """A path (or a string ending in .safetensors) rather than a registry name or a model object."""
    return isinstance(model, os.PathLike) or (isinstance(model, str) and model.endswith(".safetensors"))


def load_model(model: str | os.PathLike | MuseModel = "default", device: torch.device | str = "cpu") -> MuseModel:
    """A registry name, a path to a .safetensors file, or a model object → eval-mode model on `device`."""
    if isinstance(model, MuseModel):
        loaded = model
    elif names_a_file(model):
        path = Path(model)
        loaded = _build(path, *_read(path))
    else:
        loaded = load_entry(get_entry(str(model)))
    return loaded.to(device).eval()
