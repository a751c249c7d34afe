"""The enhancement settings' valid values, checked in one place for the plugin, the CLI and the server."""

from __future__ import annotations

MUSECODERS = ("fast", "diffusion")
STEP_CHOICES = (6, 50)
MAX_SEED = 2**63 - 1  # a signed 64-bit integer, so every client language can hold it


def check_musecoder(value: str) -> str:
    if value not in MUSECODERS:
        raise ValueError(f"musecoder must be one of {', '.join(MUSECODERS)}, got {value!r}")
    return value


def check_steps(value: int) -> int:
    if value not in STEP_CHOICES:
        raise ValueError(f"steps must be 6 (fast schedule) or 50 (the paper's full chain), got {value!r}")
    return int(value)


def check_mix(value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"mix must be between 0.0 (dry) and 1.0 (fully enhanced), got {value!r}")
    return float(value)


def check_seed(value: int) -> int:
    if int(value) != value or not 0 <= value <= MAX_SEED:
        raise ValueError(f"seed must be a non-negative integer up to {MAX_SEED} (2**63 - 1), got {value!r}")
    return int(value)
