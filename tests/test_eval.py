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
    assert "| paper | 2 |" in table and table.split("\n## ")[0] in result.output
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


@pytest.fixture
def bright_pairs(tmp_path):
    """Two 44.1 kHz clips with energy up to 20 kHz, noisy inputs, and a "stepped" output: the clean 6 dB louder
    from 8 kHz up, as two generator halves that disagree would leave it."""
    rate, noise = 44100, np.random.default_rng(2)
    t = np.arange(2 * rate) / rate
    for i, f0 in enumerate((220.0, 330.0)):
        clean = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(20000 / f0))) * np.exp(-2 * (t % 1))
        clean = 0.1 * clean + 1e-3 * noise.standard_normal(len(t))
        spectrum = np.fft.rfft(clean)
        spectrum[np.fft.rfftfreq(len(t), 1 / rate) >= 8000] *= 2.0
        sf.write(tmp_path / f"b{i}_clean.wav", clean.astype(np.float32), rate)
        sf.write(tmp_path / f"b{i}_aug.wav", (clean + 0.01 * noise.standard_normal(len(t))).astype(np.float32), rate)
        sf.write(tmp_path / f"b{i}_stepped.wav", np.fft.irfft(spectrum, n=len(t)).astype(np.float32), rate)
    return tmp_path


def test_eval_reports_tonal_balance_and_checks_criteria(bright_pairs, tmp_path):
    out = tmp_path / "r"
    args = ["--systems", "input,stepped", "--metrics", "fb_mrstft,holes,muffled,level", "--boundary", "8000"]
    criteria = ["--criteria", "realmusic", "--candidate", "stepped", "--references", "input"]
    result = CliRunner().invoke(evaluate, [str(bright_pairs), *args, *criteria, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| system | deviation above 1 kHz (dB) ↓ | largest step (dB) | at (kHz) | step at 8.00 kHz (dB) |" in (
        result.output
    )
    assert "| stepped | " in result.output and "| +6.0 | 8.00 | +6.0 |" in result.output
    assert "| step at 8.00 kHz, up or down (dB) ≤ 3 | 6.0" in result.output and "| 3.000 | NO |" in result.output
    assert "| clips muffled that the input was not | 0.000 | 0.000 | yes |" in result.output
    assert (out / "tonal_balance.png").stat().st_size > 10_000
    summary = (out / "summary.md").read_text()
    assert "| band (Hz) | input | stepped |" in summary and "| 8000–8980 | " in summary
    assert "| band (Hz)" not in result.output  # the long per-band table is in the file only
    with open(out / "tonal_balance.csv") as f:
        bands = list(csv.DictReader(f))
    above = [float(b["stepped"]) for b in bands if float(b["low_hz"]) >= 8000]
    below = [float(b["stepped"]) for b in bands if float(b["high_hz"]) <= 8000]
    assert np.allclose(above, 6.02, atol=0.1) and np.allclose(below, 0.0, atol=0.1)
    level = {r["system"]: float(r["level"]) for r in csv.DictReader(open(out / "clips.csv"))}
    assert 0 < level["stepped"] < 6.02 and abs(level["input"]) < 0.5


def test_eval_no_harm_gives_every_system_the_clean(bright_pairs, tmp_path):
    args = [str(bright_pairs), "--no-harm", "--systems", "input", "--metrics", "fb_mrstft,holes,muffling,loudness"]
    criteria = ["--criteria", "no-harm", "--candidate", "input", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(evaluate, [*args, *criteria])
    assert result.exit_code == 0, result.output
    assert "No harm: every system was given the clean as its input." in result.output
    assert "| input | 2 | 0.000 | 0.000 | 0.000 | 0.000 |" in result.output
    assert "| input | 0.00 | +0.0 |" in result.output and "3 of 3 met." in result.output


def test_eval_no_harm_refuses_outputs_made_from_the_degraded_input(bright_pairs):
    result = CliRunner().invoke(evaluate, [str(bright_pairs), "--no-harm", "--systems", "input,stepped"])
    assert result.exit_code == 2 and "stepped are outputs made from the degraded input" in result.output


def test_eval_runs_another_model_by_name_and_judges_the_first_of_ours(pairs, tmp_path, tiny_model_path):
    system = f"fast:{tiny_model_path}"
    args = [str(pairs), "--model", "no-such-model", "--systems", f"input,{system}", "--metrics", "spec_l1"]
    result = CliRunner().invoke(evaluate, [*args, "--criteria", "paper-val", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert f"| {system} | 2 |" in result.output and f"## Criteria paper-val: {system}" in result.output
    assert "| MR-STFT ≤ 1.50 | — | 1.500 | NO |" in result.output  # not measured in this run: not met


def test_eval_criteria_name_systems_the_run_evaluates(pairs):
    result = CliRunner().invoke(evaluate, [str(pairs), "--systems", "input", "--criteria", "realmusic"])
    assert result.exit_code == 2 and "needs a --candidate" in result.output
    args = ["--systems", "input", "--criteria", "realmusic", "--candidate", "input", "--references", "paper"]
    result = CliRunner().invoke(evaluate, [str(pairs), *args])
    assert result.exit_code == 2 and "judges paper, which --systems does not evaluate" in result.output
