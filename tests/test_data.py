"""Clean-data building: MIDI writing, humanised performances, splits by work, renders and banks (tools permitting),
and held-out evaluation pairs."""

import csv
import json
import random
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from muse_fx.cli.data import data
from muse_fx.training.corpus import Line, Note, Work, split_for
from muse_fx.training.humanise import perform
from muse_fx.training.instruments import BY_NAME, INSTRUMENTS
from muse_fx.training.loudness import loudness_db, normalise
from muse_fx.training.midi import midi_bytes
from muse_fx.training.render import MANIFEST_FIELDS
from muse_fx.training.synthetic import tone_sequence

LINE = Line("test/1", "melody", "tune", tuple(Note(i * 0.5, 0.5, (60 + (i * 5) % 14,)) for i in range(16)))

needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth binary not installed")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng binary not installed")


def test_midi_file_is_well_formed():
    performance = perform(LINE, BY_NAME["flute"], random.Random(0))
    raw = midi_bytes(performance.events, 73)
    assert raw[:4] == b"MThd" and raw[14:18] == b"MTrk"
    assert int.from_bytes(raw[18:22], "big") == len(raw) - 22
    assert raw.endswith(b"\xff\x2f\x00")
    assert raw.count(b"\x90") >= len(performance.events)  # every note is switched on (and off)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.name)
def test_performance_stays_in_the_instrument_range_and_every_note_ends(instrument):
    performance = perform(LINE, instrument, random.Random(1))
    assert all(instrument.low <= e.pitch <= instrument.high for e in performance.events)
    assert all(e.end > e.start for e in performance.events)
    assert all(1 <= e.velocity <= 127 for e in performance.events)


def test_splits_are_per_work_and_deterministic():
    works = [f"oneills1850/0001-0050/{i}" for i in range(400)]
    splits = [split_for(w) for w in works]
    assert splits == [split_for(w) for w in works]
    assert {"train", "validation", "test"} == set(splits)
    assert splits.count("train") > 300


def test_the_room_bank_draws_its_splits_with_the_works_function_and_its_own_shares():
    from muse_fx.training.degrade.rooms import SPLITS

    drawn = {index: split_for(f"rir{index}", SPLITS) for index in (3, 4, 7, 9, 14, 17, 27)}
    assert drawn == {3: "train", 4: "validation", 7: "test", 9: "test", 14: "validation", 17: "validation", 27: "test"}
    assert [split_for(f"w{index}") for index in (0, 1, 15)] == ["train", "validation", "test"]  # as before the merge


def test_normalise_reaches_the_target_loudness_without_clipping():
    audio = torch.sin(torch.linspace(0, 2000, 16000)) * 0.01
    out = normalise(audio, 16000, -20.0)
    assert loudness_db(out, 16000) == pytest.approx(-20.0, abs=0.1) and out.abs().max() <= 0.98


def test_training_loudness_is_bs1770_lufs_as_pyloudnorm_measures_it():
    """It was a gated RMS stand-in, up to about 1.2 dB from LUFS on the renders."""
    import pyloudnorm

    noise = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 3 * 16000)).astype(np.float32)) * 0.05
    bass = torch.sin(torch.arange(3 * 16000) * 2 * torch.pi * 60 / 16000) * 0.3
    for audio in (noise[0], noise, bass):
        out = normalise(audio, 16000, -23.0)
        for row in out.reshape(-1, out.shape[-1]):
            assert pyloudnorm.Meter(16000).integrated_loudness(row.double().numpy()) == pytest.approx(-23.0, abs=0.05)
    silent = torch.zeros(16000)
    assert torch.equal(normalise(silent, 16000, -20.0), silent)  # no loudness to reach: left as it is, no NaN


SCORE = Work(
    "test/2",
    "chorale",
    (LINE, Line("test/2", "bass", "chorale", tuple(Note(i * 1.0, 1.0, (43 + i % 5,)) for i in range(8)))),
)


def test_ensemble_parts_share_tempo_and_key_and_drums_bring_cymbals():
    from muse_fx.training.arrangement import arrange
    from muse_fx.training.drums import CLOSED_HAT, CRASH, RIDE
    from muse_fx.training.soundfonts import SOUNDFONTS

    for seed in range(40):
        arrangement = arrange(SCORE, random.Random(seed), SOUNDFONTS, ())
        if arrangement.kind in ("ensemble", "duet"):
            performances = [v.performance for v in arrangement.voices]
            assert len({p.tempo_bpm for p in performances}) == 1 and len({p.transposition for p in performances}) == 1
    tune = Work(LINE.work, "tune", (LINE,))
    kinds = {arrange(tune, random.Random(seed), SOUNDFONTS, ()).kind for seed in range(20)}
    assert kinds == {"solo", "drums"}
    drummed = next(
        arrange(tune, random.Random(s), SOUNDFONTS, ())
        for s in range(20)
        if arrange(tune, random.Random(s), SOUNDFONTS, ()).kind == "drums"
    )
    keys = {e.pitch for e in drummed.voices[1].performance.events}
    assert keys & {CRASH, RIDE, CLOSED_HAT} and drummed.voices[1].channel == 9  # the GM font's own kit


@needs_fluidsynth
def test_ensemble_render_is_mono_full_band_and_loudness_normalised():
    from muse_fx.training.arrangement import Arrangement, Voice
    from muse_fx.training.render import TARGET_LOUDNESS_DB, render_arrangement
    from muse_fx.training.soundfonts import SOUNDFONTS, installed

    fonts = [font for font in installed(SOUNDFONTS) if font.path.suffix == ".sf2"]
    if not fonts:
        pytest.skip("no .sf2 soundfont installed (Debian: fluid-soundfont-gm)")
    rng = random.Random(0)
    voices = (
        Voice("violin", 40, 0, perform(LINE, BY_NAME["violin"], rng, 100.0, 0)),
        Voice("cello", 42, 0, perform(SCORE.parts[1], BY_NAME["cello"], rng, 100.0, 0)),
    )
    audio = render_arrangement(Arrangement("test/2", "ensemble", voices, fonts[0]), 44100)
    assert audio.ndim == 1 and 3.0 < len(audio) / 44100 < 12.0
    assert loudness_db(audio, 44100) == pytest.approx(TARGET_LOUDNESS_DB, abs=1.0)
    spectrum = torch.fft.rfft(audio).abs().square()
    above_8k = spectrum[int(8000 / 22050 * len(spectrum)) :].sum() / spectrum.sum()
    assert above_8k > 1e-5  # a violin's harmonics reach past 8 kHz: the render is not band-limited


@needs_espeak
def test_babble_bank_cli(tmp_path):
    out = tmp_path / "babble.pt"
    result = CliRunner().invoke(data, ["babble", "--out", str(out), "--count", "2"])
    assert result.exit_code == 0, result.output
    bank = torch.load(out, weights_only=False)
    assert len(bank["utterances"]) == 2 and bank["sample_rate"] == 16000


def test_rir_bank_cli_measures_rt60(tmp_path):
    pytest.importorskip("pyroomacoustics", reason="pyroomacoustics (muse-fx[train]) not installed")
    out = tmp_path / "rirs.pt"
    result = CliRunner().invoke(data, ["rirs", "--out", str(out), "--count", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    bank = torch.load(out, weights_only=False)
    assert len(bank["rirs"]) == 2 and all(0.05 < t < 5 for t in bank["rt60"])
    assert set(bank["split"]) <= {"train", "validation", "test"}


def _tiny_corpus(folder, splits=("train", "test")):
    folder.mkdir()
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for i, split in enumerate(splits):
            sf.write(folder / f"{split}.flac", tone_sequence(4.0, 16000, random.Random(i)).numpy(), 16000)
            writer.writerow(
                dict(
                    file=f"{split}.flac",
                    work=f"w{i}",
                    take=0,
                    arrangement="solo",
                    instrument="flute",
                    program=73,
                    soundfont="x",
                    transposition=0,
                    split=split,
                    duration=4.0,
                    sample_rate=16000,
                )
            )


def test_pairs_cli_writes_reproducible_held_out_pairs_that_eval_reads(tmp_path):
    _tiny_corpus(tmp_path / "clean")
    runs = []
    for name in ("a", "b"):
        args = [
            "pairs",
            "--clean",
            str(tmp_path / "clean"),
            "--out",
            str(tmp_path / name),
            "--count",
            "3",
            "--seconds",
            "1",
        ]
        result = CliRunner().invoke(data, args)
        assert result.exit_code == 0, result.output
        runs.append(sorted(p.name for p in (tmp_path / name).iterdir()))
    names = ("_aug.wav", "_clean.wav", ".json")
    expected = sorted(f"test-{i:04d}-solo{suffix}" for i in range(3) for suffix in names)
    assert runs[0] == runs[1] == expected
    degraded, rate = sf.read(tmp_path / "a" / "test-0000-solo_aug.wav")
    clean, _ = sf.read(tmp_path / "a" / "test-0000-solo_clean.wav")
    assert rate == 16000 and len(degraded) == len(clean) == 16000 and not (degraded == clean).all()
    assert (degraded == sf.read(tmp_path / "b" / "test-0000-solo_aug.wav")[0]).all()
    draws = json.loads((tmp_path / "a" / "test-0000-solo.json").read_text())
    assert "level_db" in draws and draws["source"]["file"] == "test.flac"


def test_pairs_at_44k_from_a_16k_corpus_are_resampled_and_refuse_a_bank_of_another_rate(tmp_path):
    _tiny_corpus(tmp_path / "clean")
    args = ["pairs", "--clean", str(tmp_path / "clean"), "--count", "1", "--seconds", "0.5", "--sample-rate", "44100"]
    result = CliRunner().invoke(data, [*args, "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    audio, rate = sf.read(tmp_path / "p" / "test-0000-solo_clean.wav")
    assert rate == 44100 and len(audio) == 22050
    torch.save({"sample_rate": 16000, "rirs": [torch.zeros(10)], "split": ["test"], "rt60": [0.1]}, tmp_path / "r.pt")
    result = CliRunner().invoke(data, [*args, "--out", str(tmp_path / "q"), "--rirs", str(tmp_path / "r.pt")])
    assert result.exit_code == 1 and "built at 16000 Hz" in result.output and "--sample-rate 44100" in result.output


def test_pairs_cli_says_what_to_do_when_the_split_is_empty(tmp_path):
    _tiny_corpus(tmp_path / "clean", splits=("train",))
    result = CliRunner().invoke(data, ["pairs", "--clean", str(tmp_path / "clean"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no test clips" in result.output and "render more hours" in result.output


def test_tone_check_sees_a_darker_corpus():
    from muse_fx.training.tone import band_shares_db

    noise = np.random.default_rng(0).standard_normal(32000)
    spectrum = np.fft.rfft(noise) / (1 + np.fft.rfftfreq(32000, 1 / 16000) / 1000)  # −6 dB/octave above 1 kHz
    dark = np.fft.irfft(spectrum, n=32000)
    white, darker = band_shares_db(noise), band_shares_db(dark)
    assert darker[-1] < white[-1] - 3  # 2–8 kHz share
    assert darker[0] > white[0]


def test_arrangement_weights_draw_scores_more_often(tmp_path):
    from muse_fx.training.data import CleanClips

    folder = tmp_path / "clean"
    folder.mkdir()
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for kind in ("solo", "ensemble"):
            sf.write(folder / f"{kind}.flac", np.full(16000, 0.1, dtype="float32"), 16000)
            writer.writerow(
                dict(
                    file=f"{kind}.flac",
                    work=kind,
                    take=0,
                    arrangement=kind,
                    instrument="x",
                    program=0,
                    soundfont="x",
                    transposition=0,
                    split="train",
                    duration=1.0,
                    sample_rate=16000,
                )
            )
    rng = random.Random(0)
    draws = [
        CleanClips(folder, "train", 16000, {"ensemble": 3.0}).segment(100, rng)[1]["arrangement"] for _ in range(400)
    ]
    assert 0.68 < draws.count("ensemble") / len(draws) < 0.82  # 3 : 1


def test_render_gives_scores_several_arrangements_in_the_first_pass():
    from muse_fx.training.corpus import Work
    from muse_fx.training.render import MAX_TAKES, SCORE_TAKES, _takes

    tune, chorale = Work("t", "tune", ()), Work("c", "chorale", ())
    assert list(_takes(tune, 0)) == [0] and list(_takes(chorale, 0)) == list(range(SCORE_TAKES))
    assert list(_takes(tune, 1)) == [1] and list(_takes(chorale, 1)) == [SCORE_TAKES]
    every = [take for round_ in range(MAX_TAKES) for take in _takes(chorale, round_)]
    assert every == list(range(MAX_TAKES))  # each take once, none past the cap
