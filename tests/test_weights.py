"""Weights as versioned data: loading by path and by registry name, and clear errors for bad files."""

import dataclasses

import pytest
import torch
from tiny_model import TINY, save_tiny_model

from muse_fx.engine import registry
from muse_fx.engine.model_config import Mel2MelConfig
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.weights import load_entry, load_model, save_model, sha256_of
from muse_fx.errors import ModelError


def test_round_trip_keeps_weights(tmp_path):
    path = save_tiny_model(tmp_path / "m.safetensors", seed=1)
    loaded = load_model(path)
    torch.manual_seed(1)
    original = MuseModel(TINY)
    for key, value in original.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    assert not loaded.training


def test_fp16_file_loads_as_float32(tmp_path):
    path = save_model(MuseModel(TINY), tmp_path / "half.safetensors", dtype=torch.float16)
    assert next(load_model(path).parameters()).dtype == torch.float32


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ModelError, match="nowhere.safetensors does not exist"):
        load_model(tmp_path / "nowhere.safetensors")


def test_corrupt_file_names_the_file(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelError, match="broken.safetensors is not a readable safetensors file"):
        load_model(path)


def test_config_shape_mismatch_is_explained(tmp_path):
    path = save_tiny_model(tmp_path / "m.safetensors")
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    config["mel2mel"]["ngf"] = 8
    save_file(load_file(str(path)), str(path), metadata={**meta, "config": json.dumps(config)})
    with pytest.raises(ModelError, match="has shape .* but the config expects"):
        load_model(path)


@pytest.fixture
def fake_registry(tmp_path, monkeypatch):
    path = save_tiny_model(tmp_path / "tiny-0.1.safetensors")
    entry = registry.ModelEntry(
        name="tiny",
        version="0.1",
        file=path.name,
        sha256=sha256_of(path),
        sample_rate=16000,
        config=TINY,
        recipe="random init",
        date="2026-11-25",
    )
    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path)
    return entry


def test_registry_entry_loads_with_checksum(fake_registry):
    assert isinstance(load_entry(fake_registry), MuseModel)


def test_checksum_mismatch_is_corruption(fake_registry):
    bad = dataclasses.replace(fake_registry, sha256="0" * 64)
    with pytest.raises(ModelError, match="is corrupt: sha256"):
        load_entry(bad)


def test_registry_config_mismatch(fake_registry):
    other = dataclasses.replace(fake_registry, config=dataclasses.replace(TINY, mel2mel=Mel2MelConfig(ngf=8)))
    with pytest.raises(ModelError, match="config differs from the registry"):
        load_entry(other)


def test_missing_bundled_file(fake_registry):
    with pytest.raises(ModelError, match="is missing; reinstall"):
        load_entry(dataclasses.replace(fake_registry, file="gone.safetensors"))


def test_unknown_name_lists_choices():
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        load_model("no-such-model")
