"""Issue 25, "Wrong or made-up audio": truncated MP3/Ogg (item 6), non-finite output (item 7), M4A length (item 16).

Each test reproduces one defect found by probing; see docs/reliability.md, "Issue 25 probe".
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pedalboard
import pytest
import soundfile as sf
import torch
from conftest import identity
from test_server_support import TestClient, encode, make_app, noise

from muse_fx import MuseEnhance, Pedalboard
from muse_fx.audition.render import read_excerpt
from muse_fx.engine.pipeline import Enhancer
from muse_fx.errors import AudioInputError, NonFiniteOutputError
from muse_fx.files import enhance_file
from muse_fx.io.decode import probe_decoded

RATE = 44100
CLI = [sys.executable, "-c", "from muse_fx.cli import main; main()"]


def sweep(seconds: float, rate: int = RATE) -> np.ndarray:
    """A rising tone: no stretch of it sounds like another, so repeated audio would not pass for the real thing."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * (200 + 40 * t) * t)).astype(np.float32)


def cut_in_half(path: Path, seconds: float) -> Path:
    """`seconds` of sweep encoded in `path`'s format, then its second half of bytes dropped, as a broken copy does."""
    sf.write(path, sweep(seconds), RATE, format=path.suffix[1:].upper())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture(scope="module")
def client(tiny_model_path):
    with TestClient(make_app(tiny_model_path)) as client:
        yield client


def post(client, data: bytes):
    return client.post("/v1/enhance", files={"file": ("in.wav", data)})


# ------------------------------------------------------------------------------------ 6. truncated MP3 and Ogg


def decoded_whole(path: Path) -> np.ndarray:
    """`path` decoded in one read: libsndfile's MP3 decoder is right when nothing interrupts it."""
    return sf.read(path, dtype="float32")[0]


def test_a_truncated_mp3_is_enhanced_only_up_to_where_its_audio_ends(tmp_path):
    source = cut_in_half(tmp_path / "take.mp3", seconds=24)  # its Xing header still says 24 s
    there = decoded_whole(source)
    result = enhance_file(identity, source, tmp_path / "out.wav", subtype="FLOAT")
    written = decoded_whole(tmp_path / "out.wav")
    assert 11 * RATE < len(written) < 13 * RATE and abs(len(written) - len(there)) <= 1152  # an MP3 frame
    np.testing.assert_allclose(written[: len(there)], there[: len(written)], atol=1e-5)  # was 24 s, 10–20 s repeated
    assert result.seconds == len(written) / RATE
    assert result.warnings == [
        f"{source}: is truncated — its audio ends at {len(written) / RATE:.2f} s, before the 24.00 s its header "
        "gives; enhanced the part that is there — re-copy or re-export the file for the rest"
    ]


def test_an_mp3_has_no_dropouts_where_blocks_meet(tmp_path):
    """python-soundfile seeks after each read, which restarted libsndfile's MP3 decoder: 55 ms of silence and
    fade-in at 10 s, 20 s… of every MP3."""
    source = tmp_path / "take.mp3"
    sf.write(source, sweep(24), RATE)
    enhance_file(identity, source, tmp_path / "out.wav", subtype="FLOAT")
    np.testing.assert_allclose(decoded_whole(tmp_path / "out.wav"), decoded_whole(source), atol=1e-5)


def test_an_mp3_without_its_info_frame_is_read_to_its_end(tmp_path):
    """Without the Xing/Info frame libsndfile guesses the length: 1.0 s of this 3 s file."""
    source = tmp_path / "take.mp3"
    sf.write(source, sweep(3), RATE, bitrate_mode="CONSTANT")
    data = source.read_bytes()
    source.write_bytes(data[data.index(b"\xff\xfb", 4) :])  # the audio frames after the Info frame
    result = enhance_file(identity, source, tmp_path / "out.wav")
    assert 3 * RATE <= sf.info(tmp_path / "out.wav").frames < 3 * RATE + 2 * 1152  # and the encoder's delay
    assert result.warnings == []


def test_the_cli_warns_about_a_truncated_mp3_and_names_it(run, tmp_path):
    cut_in_half(tmp_path / "take.mp3", seconds=12)
    result = run("take.mp3", "-o", "out.wav")
    assert result.exit_code == 0, result.output
    there = sf.info(tmp_path / "out.wav").frames
    assert 5 * RATE < there < 7 * RATE  # was 12 s
    assert f"! take.mp3: is truncated — its audio ends at {there / RATE:.2f} s, before the 12.00 s" in result.output
    assert f"✓ take.mp3 → out.wav ({there / RATE:.1f} s)" in result.output


def test_an_ogg_cut_short_is_enhanced_with_a_warning(tmp_path):
    source = cut_in_half(tmp_path / "take.ogg", seconds=10)
    whole = tmp_path / "whole.ogg"
    sf.write(whole, sweep(10), RATE)
    there = sf.info(source).frames
    result = enhance_file(identity, source, tmp_path / "out.wav")
    assert sf.info(tmp_path / "out.wav").frames == there
    assert result.warnings == [
        f"{source}: is truncated — its audio ends at {there / RATE:.2f} s, without the end mark of a whole file; "
        "enhanced the part that is there — re-copy or re-export the file for the rest"
    ]
    assert enhance_file(identity, whole, tmp_path / "whole.wav").warnings == []
    assert enhance_file(identity, source, tmp_path / "part.wav", duration=1.0).warnings == []  # the end is not read


def test_audition_takes_only_the_audio_a_truncated_mp3_holds(tmp_path):
    source = cut_in_half(tmp_path / "take.mp3", seconds=24)
    excerpt = read_excerpt(source, 0.0, None)
    there = excerpt.audio.shape[1]
    assert 11 * RATE < there < 13 * RATE  # was 24 s, the last half made up
    assert excerpt.duration == there / RATE and excerpt.to_end
    assert excerpt.warnings == (
        f"{source}: is truncated — its audio ends at {there / RATE:.2f} s, before the 24.00 s its header gives; "
        "the excerpt ends there",
    )


def test_the_server_refuses_an_upload_whose_audio_ends_before_its_header_says(client, monkeypatch):
    """No WAV or FLAC cut short has been found to read short without an error (libsndfile flags them), so a
    decoder that stops halfway stands in for one; the server must not answer with a shorter file."""
    read = sf.SoundFile.read

    def stops_halfway(self, frames=-1, *args, **kwargs):
        return read(self, max(0, min(frames, self.frames // 2 - self.tell())), *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", stops_halfway)
    response = post(client, encode(noise(1, 2.0, 16000), 16000))
    assert response.status_code == 422, response.status_code
    assert response.json()["detail"] == (
        "the upload: is truncated — its audio ends at 1.00 s, before the 2.00 s its header gives; re-copy or "
        "re-export it"
    )


# ------------------------------------------------------------------------------------ 7. non-finite output

LOWPASS_30K = "plugin #1 (LowpassFilter cutoff_frequency_hz=30000)"


@pytest.fixture
def unchecked_boards(monkeypatch):
    """Boards that skip the up-front above-Nyquist check, so a 30 kHz low-pass at 44.1 kHz stands in for a plugin
    that blows up for a reason no check knows ahead: the output check must still catch and name it."""
    monkeypatch.setattr(Pedalboard, "_check_frequencies", lambda self, rate: None)


@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
def test_a_plugin_that_blows_up_is_named_and_nothing_is_written(tmp_path, subtype, unchecked_boards):
    source = tmp_path / "in.wav"
    sf.write(source, noise(1, 2.0, RATE).T, RATE)
    board = Pedalboard([pedalboard.LowpassFilter(cutoff_frequency_hz=30000)])  # above 44.1 kHz's Nyquist
    with pytest.raises(NonFiniteOutputError) as error:
        enhance_file(board, source, tmp_path / "out.wav", subtype=subtype)  # was ✓: Inf, or full-scale clipping
    assert str(error.value).startswith(f"{source}: {LOWPASS_30K} produced ")
    assert "NaN or infinite sample(s)" in str(error.value) and "above half the sample rate (22050 Hz)" in str(
        error.value
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_the_culprit_is_found_inside_a_stretch_of_native_plugins(unchecked_boards):
    board = Pedalboard([pedalboard.Gain(0.0), pedalboard.LowpassFilter(30000), pedalboard.Gain(-1.0)])
    with pytest.raises(NonFiniteOutputError, match=r"^plugin #2 \(LowpassFilter cutoff_frequency_hz=30000\) produced"):
        board(noise(2, 1.0, RATE), RATE)


def test_a_preset_that_blows_up_to_mp3_is_refused_without_debris(tmp_path):
    """The MP3 encoder aborted on Inf (exit 134) and left its partial files: run as a user does, in a process.
    The preset is now refused before anything runs, naming the plugin and its setting."""
    sf.write(tmp_path / "in.wav", noise(2, 2.0, RATE).T, RATE)
    (tmp_path / "bright.toml").write_text('[[plugin]]\ntype = "LowpassFilter"\ncutoff_frequency_hz = 30000.0\n')
    command = [*CLI, "enhance", "in.wav", "--preset", "bright.toml", "-o", "out.mp3"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "plugin #1: LowpassFilter: cutoff_frequency_hz" in result.stderr and "in.wav" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bright.toml", "in.wav"]


def test_absurd_input_levels_are_refused_naming_the_file_and_its_peak(run, client, tiny_model_path, tmp_path):
    loud = noise(1, 1.0, 16000) / 0.4 * 1e18  # peak about 1e18: float32 maths overflows in the model
    sf.write(tmp_path / "loud.wav", loud.T, 16000, subtype="FLOAT")
    peak = f"{float(np.abs(loud).max()):.3g}"
    result = run("loud.wav")
    assert result.exit_code == 1, result.output  # was ✓ and all-NaN output
    assert f"✗ loud.wav: audio peaks at {peak} (+360 dBFS); float audio is full scale at ±1.0" in result.output
    assert not (tmp_path / "loud_enhanced.wav").exists()
    response = post(client, (tmp_path / "loud.wav").read_bytes())
    assert response.status_code == 422 and response.json()["detail"].startswith(f"audio peaks at {peak}")  # was 200
    with pytest.raises(AudioInputError, match="peaks at"):
        MuseEnhance(model=tiny_model_path, device="cpu")(loud, 16000)


def nan_model(monkeypatch) -> None:
    """Stand in for a model fault: every chunk comes back NaN."""
    monkeypatch.setattr(Enhancer, "process_chunks", lambda self, chunks, *_, **__: torch.full_like(chunks, np.nan))


def test_a_model_that_makes_nan_is_stopped_in_the_plugin_and_the_server(client, tiny_model_path, monkeypatch):
    nan_model(monkeypatch)
    plugin = MuseEnhance(model=tiny_model_path, device="cpu")
    for call in (plugin.enhance, plugin.process, lambda audio, rate: plugin.process(audio, rate, reset=False)):
        with pytest.raises(NonFiniteOutputError, match="^the enhancement model produced .* a bug in muse-fx"):
            call(noise(1, 5.0, 16000), 16000)
        plugin.reset()
    response = post(client, encode(noise(1, 1.0, 16000), 16000))
    assert response.status_code == 500  # was 200 with NaN audio
    assert response.json()["detail"].startswith("the enhancement model produced 16000 NaN or infinite sample(s)")


# ------------------------------------------------------------------------------------ 16. M4A length


def encode_with_av(path: Path, codec: str, samples: int, rate: int) -> Path:
    """`samples` of sweep encoded by FFmpeg through PyAV, in 1024-sample frames as an encoder is fed."""
    tone = sweep(samples / rate, rate)[np.newaxis]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start : start + 1024]), "fltp", "mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    "name, codec, rate", [("memo.m4a", "aac", 44100), ("clip.mp4", "aac", 48000), ("voice.opus", "libopus", 48000)]
)
def test_decoded_audio_is_as_long_as_the_recording(tmp_path, name, codec, rate):
    source = encode_with_av(tmp_path / name, codec, 22050 + 42, rate)  # not a whole number of AAC frames
    assert probe_decoded(source).frames == 22092  # was 23552: the last frame's padding decoded too
    enhance_file(identity, source, tmp_path / "out.flac")
    assert sf.info(tmp_path / "out.flac").frames == 22092
