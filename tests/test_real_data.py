"""Real-instrument data on small stand-in libraries (synthetic tones under each library's own file names): layouts,
the sampler, `data real` / `data noises` / `data devset`, and real noises in the Degrader. No real sample is needed."""

import csv
import io
import json
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from muse_fx.cli.data import data
from muse_fx.training import render as render_module  # corpus_passes reads the works there
from muse_fx.training.corpus import Line, Note, Work
from muse_fx.training.data import Batches, DataConfig
from muse_fx.training.degrade.chain import DegradeConfig, Degrader
from muse_fx.training.humanise import Event
from muse_fx.training.real import devset as devset_module
from muse_fx.training.real.sampler import SAMPLE_RATE, Sampler
from muse_fx.training.real.sources import midi_pitch, recognise, scan
from muse_fx.training.render import MANIFEST_FIELDS

SR = SAMPLE_RATE


def tone(pitch: int, seconds: float = 1.0, channels: int = 1, rate: int = SR) -> np.ndarray:
    """A decaying harmonic tone at a MIDI pitch, after 50 ms of silence (as recordings start)."""
    t = np.arange(int(seconds * rate)) / rate
    f = 440.0 * 2 ** ((pitch - 69) / 12)
    wave = sum(np.sin(2 * np.pi * k * f * t) / k for k in (1, 2, 3)) * np.exp(-t / seconds) * 0.3
    wave = np.concatenate([np.zeros(int(0.05 * rate)), wave]).astype("float32")
    return np.stack([wave] * channels, axis=1)


def write(path: Path, audio: np.ndarray, rate: int = SR, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, **kwargs)


NOTE_NAMES = ["C", "Cs", "D", "Ds", "E", "F", "Fs", "G", "Gs", "A", "As", "B"]


def phil_name(pitch: int) -> str:
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


@pytest.fixture(scope="module")
def libraries(tmp_path_factory) -> dict[str, Path]:
    """Stand-ins for Philharmonia (a trained flute, a held-out double bass, phrases, percussion), the Headroom piano
    (held out), the Splendid piano and the guitar strums."""
    root = tmp_path_factory.mktemp("libraries")
    phil = root / "philharmonia-samples" / "audio"
    for instrument, pitches in (("flute", range(60, 90, 3)), ("double bass", range(28, 60, 3))):
        stem = instrument.replace(" ", "-")
        for pitch in pitches:
            for dynamic in ("piano", "forte"):
                name = f"{stem}_{phil_name(pitch)}_1_{dynamic}_{'arco-normal' if 'bass' in stem else 'normal'}.mp3"
                write(phil / instrument / name, tone(pitch), format="MP3")
        write(phil / instrument / f"{stem}_A3_phrase_mezzo-forte_legato.mp3", tone(57, 5.0), format="MP3")
    write(phil / "percussion" / "djembe" / "djembe__phrase_forte_rhythm.mp3", tone(40, 5.0), format="MP3")
    write(phil / "percussion" / "cowbell" / "cowbell__phrase_forte_rhythm.mp3", tone(80, 5.0), format="MP3")
    headroom = root / "BengtNilsson.HeadroomPiano" / "Samples"
    splendid = root / "SplendidGrandPiano" / "Samples"
    for pitch in range(36, 97, 3):
        for level in (1, 5):
            for mic in ("CLOSE", "DECCA"):
                write(headroom / f"HEADROOM PIANO LEVEL{level} {mic} {pitch}.flac", tone(pitch, 1.5, 2))
        for layer in ("PP", "FF"):
            write(splendid / f"{layer} {phil_name(pitch - 12)}.flac", tone(pitch, 1.5, 2))  # C4 is MIDI 72 there
    kit = root / "drumkits" / "belofilms_GuitarStrums"
    for chord, pitch in (("Amajor", 57), ("Dmajor", 62)):
        for layer in range(2):
            write(kit / f"{chord}_0{layer}.flac", tone(pitch, 2.0, 2, 96000), 96000)
            write(kit / f"{chord}_DOWN_0{layer}.flac", tone(pitch, 2.0, 2, 96000), 96000)
    (kit / "drumkit.xml").write_text("<drumkit_info/>")
    berklee = root / "audio" / "berklee"
    for singer, notes in (("femalevoice", ("A3", "Db4", "Eb4", "A4")), ("malevoice", ("A2", "C3", "F3", "A3"))):
        for note in notes:
            write(berklee / f"{singer}_aa_{note}.mp3", tone(midi_pitch(note), 2.0), format="MP3")
    return {
        "philharmonia": root / "philharmonia-samples",
        "headroom": root / "BengtNilsson.HeadroomPiano",
        "splendid": root / "SplendidGrandPiano",
        "strums": root / "drumkits",
        "voices": root / "audio",
    }


@pytest.fixture(scope="module")
def noise_sources(tmp_path_factory) -> dict[str, Path]:
    """Stand-ins for Tonejs/audio's berklee/ (a trained fan, a held-out crowd, a toy sound left out), 0 A.D.'s
    archive (a held-out rain) and Sonic Pi's vinyl hiss."""
    root = tmp_path_factory.mktemp("noises")
    rng = np.random.default_rng(0)
    for name in ("fan_1", "crowd5", "wind_up_toy_1"):
        write(
            root / "audio" / "berklee" / f"{name}.mp3", rng.normal(0, 0.1, (3 * SR, 1)).astype("float32"), format="MP3"
        )
    buffer = io.BytesIO()
    sf.write(buffer, rng.normal(0, 0.1, (3 * SR, 2)).astype("float32"), SR, format="OGG")
    (root / "0ad").mkdir()
    with zipfile.ZipFile(root / "0ad" / "public.zip", "w") as archive:
        archive.writestr("audio/ambient/weather/rain_12.ogg", buffer.getvalue())
        archive.writestr("audio/interface/click.ogg", buffer.getvalue())
    write(root / "sonic-pi" / "vinyl_hiss.flac", rng.normal(0, 0.05, (3 * SR, 2)).astype("float32"))
    return {"berklee": root / "audio", "0ad": root / "0ad", "sonic-pi": root / "sonic-pi"}


def real_args(libraries) -> list[str]:
    return [arg for path in libraries.values() for arg in ("--real", str(path))]


def dominant_midi(audio: torch.Tensor, rate: int = SR) -> float:
    spectrum = np.abs(np.fft.rfft(audio.numpy() * np.hanning(len(audio)), 1 << 18))
    freqs = np.fft.rfftfreq(1 << 18, 1 / rate)
    return 69 + 12 * np.log2(freqs[np.argmax(spectrum)] / 440)


def test_each_library_is_recognised_and_its_octave_numbering_read(libraries):
    assert [recognise(p).name for p in libraries.values()] == [
        "philharmonia",
        "headroom",
        "splendid",
        "hydrogen-strums",
        "berklee-voices",
    ]
    samples = scan(list(libraries.values()))
    notes = [s for s in samples if s.kind == "note"]
    lowest = {s.instrument: min(x.pitch for x in notes if x.instrument == s.instrument) for s in notes}
    assert lowest["flute"] == 60 and lowest["double_bass"] == 28 and lowest["splendid_piano"] == 36
    assert lowest["female_voice"] == 57 and lowest["male_voice"] == 45
    assert midi_pitch("As4") == 70 and midi_pitch("gb2", 2) == 54 and midi_pitch("B-1", 2) == 23
    kinds = {s.instrument: (s.kind, s.split) for s in samples}
    assert kinds["double_bass"] == ("note", "validation") and kinds["djembe"] == ("percussion", "validation")
    assert kinds["headroom_piano"][1] == "validation" and kinds["flute"] == ("note", "train")
    assert kinds["male_voice"] == ("note", "validation") and kinds["female_voice"] == ("note", "train")


def test_a_folder_of_no_known_layout_is_named(tmp_path):
    result = CliRunner().invoke(data, ["real", "--real", str(tmp_path), "--out", str(tmp_path / "out")])
    assert (
        result.exit_code != 0 and "not a known instrument library" in result.output and str(tmp_path) in result.output
    )
    assert not (tmp_path / "out").exists()


def test_the_sampler_plays_each_note_at_its_pitch_from_the_nearest_recording(libraries):
    sampler = Sampler(scan([libraries["philharmonia"]]))
    # 61 lies between the flute's recorded 60 and 63: one semitone up from 60, by resampling
    audio = sampler.play("flute", [Event(0.0, 0.6, 61, 90)], random.Random(0))[0]
    assert dominant_midi(audio[: int(0.5 * SR)]) == pytest.approx(61, abs=0.15)
    # cut at the note's end plus its release fade: silence after that, none before
    assert audio[int(0.9 * SR) :].abs().max() < 1e-6 and audio[: int(0.3 * SR)].abs().max() > 0.05


def test_notes_overlap_legato_and_a_stereo_piano_stays_stereo(libraries):
    sampler = Sampler(scan([libraries["headroom"]]))
    events = [Event(0.0, 0.5, 60, 100), Event(0.5, 1.0, 64, 100)]
    audio = sampler.play("headroom_piano", events, random.Random(0), channels=2)
    assert audio.shape[0] == 2
    # the first note's release rings on after the second starts
    first = sampler.play("headroom_piano", events[:1], random.Random(0), channels=2)
    assert first[:, int(0.55 * SR) : int(0.6 * SR)].abs().max() > 1e-3


def read_rows(manifest: Path) -> list[dict]:
    with open(manifest, newline="") as f:
        return list(csv.DictReader(f))


TINY_WORKS = [
    Work(
        f"bach/bwv{n}",
        "chorale",
        tuple(
            Line(f"bach/bwv{n}", f"p{v}", "chorale", tuple(Note(i, 1.0, (48 + 7 * v + i % 5,)) for i in range(6)))
            for v in range(4)
        ),
    )
    for n in range(12)
]


@pytest.fixture
def tiny_corpus(monkeypatch):
    monkeypatch.setattr(render_module, "works", lambda submit=None: iter(TINY_WORKS))


def test_data_real_writes_the_render_manifest_with_held_out_sources_in_validation(libraries, tiny_corpus, tmp_path):
    out = tmp_path / "real"
    args = ["real", *real_args(libraries), "--out", str(out), "--hours", "0.05", "--workers", "1"]
    result = CliRunner().invoke(data, args)
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "manifest.csv")
    assert tuple(rows[0]) == MANIFEST_FIELDS
    kinds = {r["arrangement"] for r in rows}
    assert {"phrase", "percussion", "strum"} <= kinds and kinds & {"solo", "duet", "ensemble", "keys"}
    for row in rows:
        info = sf.info(out / row["file"])
        assert (info.samplerate, info.channels, info.format) == (44100, 1, "FLAC")
        held_out = {"double_bass", "headroom_piano", "djembe", "male_voice"}
        instruments = set(row["instrument"].split("+"))
        assert instruments <= held_out if row["split"] == "validation" else not instruments & held_out
    # resumable: a second run with the same budget writes nothing new
    assert CliRunner().invoke(data, args).exit_code == 0
    assert len(read_rows(out / "manifest.csv")) == len(rows)


def test_the_trainer_mixes_renders_and_real_instruments(libraries, tiny_corpus, tmp_path):
    real, clean = tmp_path / "real", tmp_path / "clean"
    assert (
        CliRunner().invoke(data, ["real", *real_args(libraries), "--out", str(real), "--hours", "0.03"]).exit_code == 0
    )
    clean.mkdir()
    sf.write(clean / "a.flac", tone(60, 4.0)[:, 0], SR)
    with open(clean / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerow(dict(zip(MANIFEST_FIELDS, ["a.flac", "w", 0, "solo", "flute", 73, "f", 0, "train", 4.05, SR])))
    config = DataConfig(clean=str(clean), real=str(real), real_share=0.5)
    batches = Batches(config, "train", SR, hop=256, seed=0)
    files = {d["source"]["file"] for _ in range(6) for d in batches.next(4)[2]}
    assert "a.flac" in files and files - {"a.flac"}


def test_data_noises_keeps_the_held_out_recordings_apart(noise_sources, tmp_path):
    out = tmp_path / "noises.pt"
    args = ["noises", *[a for p in noise_sources.values() for a in ("--real", str(p))], "--out", str(out)]
    result = CliRunner().invoke(data, args)
    assert result.exit_code == 0, result.output
    bank = torch.load(out, weights_only=False)
    names = dict(zip(bank["names"], bank["split"]))
    assert names == {
        "berklee/crowd5": "validation",
        "berklee/fan_1": "train",
        "0ad/rain_12": "validation",
        "sonic-pi/vinyl_hiss": "train",
    }
    assert bank["sample_rate"] == 44100 and all(n.dtype == torch.float16 for n in bank["noises"])


def test_real_noises_are_off_by_default_so_existing_streams_are_unchanged():
    clean = torch.sin(torch.arange(SR) * 0.05)
    recordings = [torch.randn(SR).half()]
    plain = Degrader(SR)(clean, random.Random(3))
    with_bank = Degrader(SR, DegradeConfig(), recordings=recordings)(clean, random.Random(3))
    assert torch.equal(plain[0], with_bank[0]) and plain[2] == with_bank[2]
    on = Degrader(SR, DegradeConfig(p_noise=1.0, p_real_noise=1.0), recordings=recordings)(clean, random.Random(3))
    assert on[2]["noise"][0]["kind"] == "recorded"


def test_a_stereo_take_gets_one_chain_and_keeps_its_balance():
    left = torch.sin(torch.arange(SR) * 0.05)
    stereo = torch.stack([left, 0.25 * left])
    degraded, target, _ = Degrader(SR, DegradeConfig(p_noise=0.0, p_clip=0.0))(stereo, random.Random(0))
    assert degraded.shape == target.shape == (2, SR)
    assert float(target[1].abs().max() / target[0].abs().max()) == pytest.approx(0.25, rel=1e-3)


def test_devset_is_held_out_deterministic_and_in_the_eval_format(libraries, noise_sources, tmp_path, monkeypatch):
    from muse_fx.evaluation.clips import find_clips

    monkeypatch.setattr(devset_module, "_held_out_works", lambda kind, rng, limit: TINY_WORKS[:limit])
    monkeypatch.setattr(devset_module, "DEGRADED_CLIPS", {"solo": 2, "keys": 2, "ensemble": 1, "phrase": 1})
    monkeypatch.setattr(devset_module, "NO_HARM_CLIPS", {"solo": 1, "percussion": 1})
    rirs, noises = tmp_path / "rirs.pt", tmp_path / "noises.pt"
    decays = [torch.randn(SR // 4) * torch.exp(-torch.arange(SR // 4) / (SR * t)) for t in (0.02, 0.05, 0.1)]
    torch.save(
        {"sample_rate": SR, "rirs": decays, "rt60": [0.3, 0.7, 1.4], "split": ["train", "test", "validation"]}, rirs
    )
    noise_args = [a for p in noise_sources.values() for a in ("--real", str(p))]
    assert CliRunner().invoke(data, ["noises", *noise_args, "--out", str(noises)]).exit_code == 0
    outs = [tmp_path / "dev1", tmp_path / "dev2"]
    for out in outs:
        args = ["devset", *real_args(libraries), "--rirs", str(rirs), "--noises", str(noises), "--out", str(out)]
        result = CliRunner().invoke(data, args)
        assert result.exit_code == 0, result.output
    clips = find_clips(outs[0])
    assert len(clips) == 6 and len(find_clips(outs[0] / "no-harm")) == 2
    for clip in clips:
        again = sf.read(outs[1] / clip.degraded.name)[0]  # same seed, same audio (a float WAV's PEAK chunk is dated)
        assert np.array_equal(sf.read(clip.degraded)[0], again)
        info = sf.info(clip.clean)
        assert info.samplerate == 44100 and info.duration == pytest.approx(8.0)
        assert info.channels == (2 if clip.id.split("-")[0] in ("keys", "duet", "ensemble") else 1)
        draws = json.loads((outs[0] / f"{clip.id}.json").read_text())
        assert all(n["kind"] == "recorded" for n in draws["noise"]) and draws.get("reverb", {}).get("rt60") != 0.3
        assert not {"flute", "splendid_piano", "cowbell"} & set(clip.id.split("-")[-1].split("+"))
    for clip in find_clips(outs[0] / "no-harm"):
        assert np.array_equal(sf.read(clip.degraded)[0], sf.read(clip.clean)[0])
