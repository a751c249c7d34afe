"""Device choice: "auto" picks the best available; a named device that is missing is an error."""

from __future__ import annotations

import torch

from muse_fx.errors import DeviceUnavailableError

DEVICES = ("auto", "cpu", "cuda", "mps")


def _has_mps() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Turn "auto" / "cpu" / "cuda" / "cuda:1" / "mps" into a torch.device that exists on this machine."""
    if isinstance(name, torch.device):
        name = str(name)
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise DeviceUnavailableError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _has_mps() else torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailableError(
            f"device {name!r} was requested but this machine has no usable CUDA GPU "
            "(torch.cuda.is_available() is False); use device='cpu' or 'auto'"
        )
    if kind == "cuda" and ":" in name and int(name.split(":")[1]) >= torch.cuda.device_count():
        raise DeviceUnavailableError(
            f"device {name!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist"
        )
    if kind == "mps" and not _has_mps():
        raise DeviceUnavailableError(
            f"device {name!r} was requested but Apple's MPS backend is not available here; use 'cpu' or 'auto'"
        )
    return torch.device(name)
