"""`muse-fx eval` end to end on synthesised pairs, and the folder layout it reads."""

import csv

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from muse_fx.cli.evaluate import evaluate
from muse_fx.evaluation import find_clips
from muse_fx.evaluation.clips import load_mono
from muse_fx.evaluation.systems import spectral_gating

RATE = 16000


def tone(seconds: float = 1.0, rate: int = RATE, freq: float = 330.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) * np.exp(-t)).astype(np.float32)


@pytest.fixture
def pairs(tmp_path):
    """Two clips (ids with underscores), each with a shorter "paper" output, as in paper-val."""
    noise = np.random.default_rng(0)
    for i, freq in enumerate((220.0, 440.0)):
        clean = tone(freq=freq)
        sf.write(tmp_path / f"val_{i}_clean.wav", clean, RATE)
        sf.write(tmp_path / f"val_{i}_aug.wav", clean + 0.05 * noise.standard_normal(len(clean)), RATE)
        sf.write(tmp_path / f"val_{i}_mel2mel_diffwave.wav", clean[:-195], RATE)
    return tmp_path


def test_find_clips_pairs_files_and_names_extra_systems(pairs):
    sf.write(pairs / "val_1_demucs.wav", tone(), RATE)
    sf.write(pairs / "notes.wav", tone(), RATE)  # belongs to no clip: ignored
    clips = find_clips(pairs)
    assert [c.id for c in clips] == ["val_0", "val_1"]
    assert clips[0].degraded.name == "val_0_aug.wav" and clips[0].clean.name == "val_0_clean.wav"
    assert set(clips[0].systems) == {"paper"} and set(clips[1].systems) == {"paper", "demucs"}


def test_find_clips_gives_a_file_to_the_longest_matching_id(tmp_path):
    for name in ("a_aug", "a_clean", "a_1_aug", "a_1_clean", "a_1_x"):
        sf.write(tmp_path / f"{name}.wav", tone(0.1), RATE)
    a, a1 = find_clips(tmp_path)
    assert a.systems == {} and set(a1.systems) == {"x"}


def test_find_clips_needs_a_clean_reference(tmp_path):
    sf.write(tmp_path / "x_aug.wav", tone(0.1), RATE)
    with pytest.raises(FileNotFoundError, match="x_aug.wav"):
        find_clips(tmp_path)


def test_load_mono_downmixes_and_resamples(tmp_path):
    stereo = np.stack([tone(rate=44100), -tone(rate=44100)], axis=1)
    sf.write(tmp_path / "s.wav", stereo + 0.1, 44100)
    mono = load_mono(tmp_path / "s.wav")
    assert mono.shape == (RATE,) and mono.dtype == np.float64
    assert np.abs(mono[100:-100] - 0.1).max() < 1e-3


def test_spectral_gating_keeps_the_length():
    pytest.importorskip("noisereduce")
    audio = tone() + 0.01 * np.random.default_rng(1).standard_normal(RATE)
    assert spectral_gating(audio, RATE).shape == audio.shape


def test_eval_writes_csv_table_and_spectrograms(pairs, tmp_path, tiny_model_path):
    out = tmp_path / "results"
    args = [
        str(pairs),
        "--model",
        str(tiny_model_path),
        "--systems",
        "input,fast,diffusion-6,paper",
        "--metrics",
        "mrspec,spec_l1,fwsnrseg,si_sdr",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 0, result.output
    with open(out / "clips.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["clip"], r["system"]) for r in rows[:4]] == [
        ("val_0", s) for s in ("input", "fast", "diffusion-6", "paper")
    ]
    assert len(rows) == 8 and all(np.isfinite(float(r["fwsnrseg"])) for r in rows)
    table = (out / "summary.md").read_text()
    assert "| system | clips | MR-STFT ↓ | log-spec L1 ↓ | fwSNRseg (dB) ↑ | SI-SDR (dB) ↑ |" in table
    assert "| paper | 2 |" in table and table in result.output
    assert sorted(p.name for p in (out / "spectrograms").iterdir()) == ["val_0.png", "val_1.png"]


def test_eval_without_our_systems_needs_no_model(pairs, tmp_path):
    args = [
        str(pairs),
        "--model",
        "no-such-model",
        "--systems",
        "input,paper",
        "--metrics",
        "spec_l1",
        "--limit",
        "1",
        "--out",
        str(tmp_path / "r"),
    ]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 0, result.output
    assert "| input | 1 |" in result.output and "| paper | 1 |" in result.output


def test_eval_only_scores_clips_matching_the_globs(pairs, tmp_path):
    args = [str(pairs), "--systems", "input", "--metrics", "spec_l1", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(evaluate, [*args, "--only", "*_1"])
    assert result.exit_code == 0, result.output
    assert "| input | 1 |" in result.output
    result = CliRunner().invoke(evaluate, [*args, "--only", "*-ensemble"])
    assert result.exit_code == 2 and "matching *-ensemble" in result.output


def test_eval_explains_a_missing_model(pairs, tmp_path):
    args = [str(pairs), "--model", "no-such-model", "--systems", "fast", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 1
    assert "no-such-model" in result.output and "--systems input" in result.output


def test_eval_compares_strengths_in_one_table_and_names_each_metric_once(pairs, tmp_path, tiny_model_path):
    args = [str(pairs), "--model", str(tiny_model_path), "--systems", "fast,fast@0,fast@0.5", "--limit", "1"]
    result = CliRunner().invoke(evaluate, [*args, "--metrics", "spec_l1,spec_l1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert all(f"| {name} | 1 |" in result.output for name in ("fast", "fast@0", "fast@0.5"))
    header = (tmp_path / "r" / "clips.csv").read_text().splitlines()[0]
    assert header.count("spec_l1") == 1
    rows = [line.split(",") for line in (tmp_path / "r" / "clips.csv").read_text().splitlines()[1:]]
    scores = {row[1]: row[2:] for row in rows}
    assert scores["fast@0"] != scores["fast"]  # strength 0 cuts nothing: not the full model's output


@pytest.mark.parametrize(
    "option, value", [("--systems", "input,wavenet"), ("--systems", "fast@2"), ("--metrics", "pesq")]
)
def test_eval_rejects_unknown_names(pairs, option, value):
    result = CliRunner().invoke(evaluate, [str(pairs), option, value])
    assert result.exit_code == 2 and "choose from" in result.output


def test_eval_rejects_a_folder_without_pairs(tmp_path):
    result = CliRunner().invoke(evaluate, [str(tmp_path)])
    assert result.exit_code == 2 and "no <id>_aug.wav" in result.output


def test_eval_skips_optional_packages_that_are_missing(pairs, tmp_path, monkeypatch):
    import muse_fx.cli.evaluate as cli

    monkeypatch.setitem(cli.OPTIONAL, "noisereduce", lambda: "noisereduce is not installed")
    args = [str(pairs), "--systems", "input,noisereduce", "--metrics", "spec_l1", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 0, result.output
    assert "warning: skipping noisereduce: noisereduce is not installed" in result.output
    assert "| input | 2 |" in result.output and "| noisereduce |" not in result.output


def test_full_band_pairs_are_scored_at_their_own_rate_and_16k_metrics_stay(tmp_path, monkeypatch):
    """A 44.1 kHz pair whose degraded side is a phone-like 4 kHz low-pass: the system runs at 44.1 kHz, the
    full-band metrics see the missing highs, the paper's metrics still come from 16 kHz copies."""
    import muse_fx.evaluation.systems as systems

    rate, seen = 44100, []
    t = np.arange(rate) / rate
    clean = sum(np.sin(2 * np.pi * 523 * k * t) / k for k in range(1, 30)) * np.exp(-2 * t) * 0.1
    spectrum = np.fft.rfft(clean)
    spectrum[np.fft.rfftfreq(rate, 1 / rate) > 4000] = 0
    sf.write(tmp_path / "p_clean.wav", clean.astype(np.float32), rate)
    sf.write(tmp_path / "p_aug.wav", np.fft.irfft(spectrum, n=rate).astype(np.float32), rate)
    monkeypatch.setattr(systems, "unprocessed", lambda audio, sample_rate: seen.append(sample_rate) or audio)
    args = [
        str(tmp_path),
        "--systems",
        "input",
        "--metrics",
        "spec_l1,fb_mrstft,lsd_8_16k,muffling,muffled,holes",
        "--out",
        str(tmp_path / "r"),
    ]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 0, result.output
    assert seen == [44100]
    row = next(csv.DictReader(open(tmp_path / "r" / "clips.csv")))
    assert float(row["muffling"]) < -20 and row["muffled"] == "1.0" and float(row["lsd_8_16k"]) > 10
    assert "| input | 1 |" in result.output and "muffled clips ↓" in result.output
