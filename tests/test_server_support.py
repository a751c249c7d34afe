"""Helpers shared by the server and client tests (no tests here): synthetic audio, an app on the tiny model."""

import io

import numpy as np
import pytest
import soundfile as sf
import torch

for _package in ("fastapi", "uvicorn", "multipart", "httpx"):  # a module importing this one skips without them
    pytest.importorskip(_package, reason="the server tests need the `server` extra")

from fastapi.testclient import TestClient  # noqa: E402  (re-exported for test_server.py)

from muse_fx import MuseEnhance  # noqa: E402
from muse_fx.server.app import create_app  # noqa: E402
from muse_fx.server.limits import ServerConfig  # noqa: E402
from muse_fx.server.model_pool import load_models  # noqa: E402

__all__ = ["CPU", "TestClient", "decode", "encode", "make_app", "noise", "solo"]

CPU = torch.device("cpu")


def noise(channels: int, seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """(channels, samples) float32 noise at -20 dBFS."""
    return (np.random.default_rng(seed).standard_normal((channels, round(seconds * rate))) * 0.1).astype(np.float32)


def encode(audio: np.ndarray, rate: int, subtype: str = "FLOAT", container: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.T, rate, subtype=subtype, format=container)
    return buffer.getvalue()


def decode(data: bytes):
    """Response bytes → ((channels, samples) float32, rate, soundfile info)."""
    audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return audio.T, rate, sf.info(io.BytesIO(data))


def make_app(model_path, **config):
    return create_app(load_models([str(model_path)], CPU), CPU, ServerConfig(**config))


def solo(model_path, audio: np.ndarray, rate: int, **settings) -> np.ndarray:
    """What local inference gives for the same audio and settings: the reference every answer must match."""
    return MuseEnhance(model=model_path, device="cpu", musecoder="fast", **settings)(audio, rate)
