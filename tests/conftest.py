import contextlib

import pytest
import torch
from tiny_model import save_tiny_model


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny.safetensors")


@contextlib.contextmanager
def torch_threads(count: int):
    """torch's intra-op threads set to `count` for the block: float sums split across threads round differently."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def fast_only_model_path(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("models") / "fast-only.safetensors", musecoder=False)
