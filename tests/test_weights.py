"""Weights as versioned data: loading by path and by registry name, and clear errors for bad files."""

import dataclasses
import re

import pytest
import torch
from safetensors import safe_open
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
    restore = "is missing; restore it with `git checkout -- muse_fx/bundled_models` and reinstall in your clone"
    with pytest.raises(ModelError, match=restore):
        load_entry(dataclasses.replace(fake_registry, file="gone.safetensors"))


def test_unknown_name_lists_choices():
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        load_model("no-such-model")


def test_the_same_weights_make_the_same_file(tmp_path):
    """safetensors writes metadata in hash order: without sorting, each export of one model had another sha256."""
    model = MuseModel(TINY)
    first, second = (save_model(model, tmp_path / f"{n}.safetensors", name="t", version="1") for n in "ab")
    assert first.read_bytes() == second.read_bytes()


def local_paths(text: str) -> list[str]:
    """Absolute or home-relative paths in `text` (POSIX, Windows drive or ~), as a build machine would write them."""
    return re.findall(r"(?:^|[\s'\"(=:])((?:/|~/|[A-Za-z]:[\\/])[^\s,;'\")]+)", text)


@pytest.mark.parametrize("entry", registry.list_models(), ids=lambda entry: entry.name)
def test_bundled_weights_describe_themselves_as_the_registry_does_and_name_no_local_path(entry):
    """full-band 1.0 shipped with another recipe than its registry entry, naming the build machine's data folder."""
    with safe_open(str(entry.path), framework="pt") as f:
        meta = f.metadata()
    assert (meta["name"], meta["version"], meta["recipe"]) == (entry.name, entry.version, entry.recipe)
    assert not [path for value in meta.values() for path in local_paths(value)]
