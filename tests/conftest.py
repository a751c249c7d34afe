import pytest
from tiny_model import save_tiny_model


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny.safetensors")


@pytest.fixture(scope="session")
def fast_only_model_path(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("models") / "fast-only.safetensors", musecoder=False)
