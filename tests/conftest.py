import contextlib

import pytest
import torch
from click.testing import CliRunner
from tiny_model import save_tiny_model

from muse_fx.cli import main


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


def identity(audio, sample_rate):
    """An enhancer that hands the audio back: the file path's reading and writing on their own."""
    return audio


@pytest.fixture
def run(tiny_model_path, monkeypatch, tmp_path):
    """`muse-fx enhance ARGS` with the tiny model, in tmp_path."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        return CliRunner().invoke(main, ["enhance", *args, "--model", str(tiny_model_path)], catch_exceptions=False)

    return invoke
