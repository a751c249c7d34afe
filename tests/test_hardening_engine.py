"""Issue 11, server and engine: odd sample rates, huge seeds, the Python floor, broken WAVs on every path."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from packaging.specifiers import SpecifierSet

from muse_fx import MuseEnhance
from muse_fx.cli import main
from muse_fx.engine.pipeline import chunk_seed
from muse_fx.engine.resampling import resample
from muse_fx.settings import MAX_SEED

ROOT = Path(__file__).resolve().parents[1]

PEAK_RSS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from muse_fx import MuseEnhance
    rate = int(sys.argv[2])
    MuseEnhance(model=sys.argv[1], device="cpu")(np.zeros(24003, np.float32), rate)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def peak_rss_kib(model_path: Path, rate: int) -> int:
    """Peak RSS of a fresh process that enhances 24003 samples of silence at `rate` (the issue's reproduction)."""
    command = [sys.executable, "-c", PEAK_RSS, str(model_path), str(rate)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    return int(done.stdout.split()[-1])


def test_a_rate_with_no_common_factor_costs_no_more_memory(tiny_model_path):
    # 8001 Hz and the 16 kHz model share no factor: a polyphase kernel for that ratio took 5.2 GB.
    assert peak_rss_kib(tiny_model_path, 8001) < 1.2 * peak_rss_kib(tiny_model_path, 8000)


@pytest.mark.parametrize("rate", [4000, 4001, 8001, 44056, 44101, 47952, 767999, 768000])
def test_every_accepted_rate_round_trips(tiny_model_path, rate):
    audio = (np.random.default_rng(0).standard_normal((2, rate // 10)) * 0.1).astype(np.float32)
    out = MuseEnhance(model=tiny_model_path, device="cpu")(audio, rate)
    assert out.shape == audio.shape and np.all(np.isfinite(out))


@pytest.mark.parametrize("source, target", [(44100, 16000), (16000, 44100), (8001, 16000), (16000, 8001)])
def test_resampled_lengths_are_the_ceiling_and_a_tone_keeps_its_level(source, target):
    for length in (0, 1, 2, 3, 100, 47105):
        assert resample(torch.zeros(3, length), source, target).shape == (3, -(-length * target // source))
    # 0.9 × the lower Nyquist: inside the band the crossover (bandsplit.py) takes from the model
    tone = torch.sin(2 * torch.pi * 0.45 * min(source, target) * torch.arange(source) / source).unsqueeze(0)
    level = resample(tone, source, target)[0, target // 10 : -target // 10].square().mean().sqrt()
    assert abs(20 * torch.log10(level * 2**0.5)) < 0.05  # dB


def write_noise(path: Path, seconds: float = 0.5, rate: int = 16000) -> Path:
    sf.write(str(path), np.random.default_rng(0).standard_normal(int(seconds * rate)) * 0.1, rate)
    return path


def enhance_cli(tiny_model_path: Path, *args: str):
    return CliRunner().invoke(main, ["enhance", *args, "--model", str(tiny_model_path)])


def test_a_huge_seed_runs_diffusion_from_the_cli(tiny_model_path, tmp_path):
    source = write_noise(tmp_path / "x.wav")
    options = ["--musecoder", "diffusion", "--seed", "20000000000000"]
    result = enhance_cli(tiny_model_path, str(source), "-o", str(tmp_path / "y.wav"), *options)
    assert result.exit_code == 0, result.output
    assert np.all(np.isfinite(sf.read(str(tmp_path / "y.wav"))[0]))


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_a_seed_out_of_range_is_refused_by_the_cli(tiny_model_path, tmp_path, seed):
    source = write_noise(tmp_path / "x.wav")
    result = enhance_cli(tiny_model_path, str(source), "-o", str(tmp_path / "y.wav"), "--seed", seed)
    assert result.exit_code == 2 and f"{seed} is not in the range 0<=x<={2**63 - 1}" in result.output
    assert not (tmp_path / "y.wav").exists()


def test_chunk_seeds_are_64_bit_and_distinct():
    seeds = {chunk_seed(seed, index) for seed in (0, 1, 20000000000000, MAX_SEED) for index in range(100)}
    assert len(seeds) == 400 and all(0 <= s < 2**64 for s in seeds)


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5])
def test_a_seed_out_of_range_is_refused_by_the_plugin(tiny_model_path, seed):
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer up to 9223372036854775807"):
        MuseEnhance(model=tiny_model_path, device="cpu", seed=seed)


def test_the_declared_python_floor_has_what_the_code_uses():
    # presets.py needs tomllib, and the server's `except TimeoutError` needs concurrent.futures.TimeoutError to be
    # the built-in one: both arrived in Python 3.11. On 3.10 the package would not import, and timeouts would be 500s.
    requires = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    assert "3.10" not in requires and "3.11" in requires


def test_a_16k_take_through_a_44k_model_keeps_its_top_band():
    """Up to the model's rate and back: 7.6 kHz, 0.95 × the take's Nyquist, comes back within 0.5 dB."""
    tone = torch.sin(2 * torch.pi * 7600 * torch.arange(16000) / 16000).unsqueeze(0)
    back = resample(resample(tone, 16000, 44100), 44100, 16000)[0, 1600:-1600]
    assert abs(20 * torch.log10(back.square().mean().sqrt() * 2**0.5)) < 0.5
