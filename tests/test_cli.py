"""`muse-fx` on good files and on every kind of bad input: one-line messages, nothing lost, batches go on."""

import os
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from muse_fx import MuseEnhance, __version__
from muse_fx.cli import main
from muse_fx.engine.registry import get_entry, list_models
from muse_fx.errors import MuseFxError
from muse_fx.files import attempt


@pytest.fixture
def run(tiny_model_path, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def invoke(*args, model=True):
        extra = ["--model", str(tiny_model_path)] if model and args and args[0] == "enhance" else []
        return CliRunner().invoke(main, [*args, *extra], catch_exceptions=False)

    return invoke


def write(path, seconds=1.0, rate=44100, channels=2, subtype="PCM_24", value=None):
    audio = np.random.default_rng(0).standard_normal((int(seconds * rate), channels)) * 0.1
    if value is not None:
        audio[:] = value
    sf.write(str(path), audio, rate, subtype=subtype)
    return path


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".part"]


def test_version(run):
    assert __version__ in run("--version").output


def test_enhance_keeps_rate_channels_and_bit_depth(run, tmp_path):
    source = write(tmp_path / "take.flac", channels=2, rate=48000, subtype="PCM_16")
    result = run("enhance", str(source), "-o", str(tmp_path / "out.flac"), "--plot")
    assert result.exit_code == 0, result.output
    info = sf.info(str(tmp_path / "out.flac"))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (48000, 2, "PCM_16", 48000)
    assert (tmp_path / "out.flac.png").stat().st_size > 10_000


def test_format_and_subtype_options(run, tmp_path):
    source = write(tmp_path / "take.wav")
    result = run("enhance", str(source), "--output-dir", "cleaned", "--format", "flac", "--subtype", "PCM_16")
    assert result.exit_code == 0, result.output
    assert sf.info(str(tmp_path / "cleaned" / "take.flac")).subtype == "PCM_16"


def test_folders_globs_and_default_names(run, tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a.wav", "b.wav"):
        write(tmp_path / "in" / name, seconds=0.3)
    write(tmp_path / "c.aiff", seconds=0.3)
    result = run("enhance", "in", "*.aiff")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "in" / "a_enhanced.wav").exists() and (tmp_path / "c_enhanced.aiff").exists()
    assert "3 of 3 file(s) enhanced" in result.output


def test_start_and_duration_and_progress_file(run, tmp_path):
    source = write(tmp_path / "long.wav", seconds=3.0, rate=16000, channels=1)
    result = run(
        "enhance", str(source), "-o", "part.wav", "--start", "1.0", "--duration", "0.5", "--progress-file", "status.txt"
    )
    assert result.exit_code == 0, result.output
    assert sf.info("part.wav").frames == 8000
    state, fraction, message = (tmp_path / "status.txt").read_text().rstrip("\n").split("\t")
    assert (state, fraction) == ("done", "1.000") and message.endswith("part.wav")


def make_bad_inputs(folder):
    """name → (file, what the one-line message must say)."""
    cases = {}
    cases["missing"] = (folder / "missing.wav", "file not found")
    (folder / "empty.wav").write_bytes(b"")
    cases["empty"] = (folder / "empty.wav", "file is empty")
    (folder / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunkjunk" * 20)
    cases["corrupt"] = (folder / "corrupt.wav", "not a readable audio file")
    good = write(folder / "whole.wav", seconds=1.0).read_bytes()
    (folder / "truncated.wav").write_bytes(good[: len(good) // 2])
    cases["truncated"] = (folder / "truncated.wav", "is truncated")
    (folder / "header-only.wav").write_bytes(good[:44])
    cases["header only"] = (folder / "header-only.wav", "holds no audio")
    (folder / "notes.txt").write_text("not audio")
    cases["unsupported"] = (folder / "notes.txt", "unsupported format .txt")
    nan = np.zeros((1000, 2), np.float32)
    nan[10] = np.nan
    sf.write(str(folder / "nan.wav"), nan, 44100, subtype="FLOAT")
    cases["nan"] = (folder / "nan.wav", "NaN or infinite")
    inf = np.zeros((1000, 1), np.float32)
    inf[5] = np.inf
    sf.write(str(folder / "inf.wav"), inf, 44100, subtype="FLOAT")
    cases["inf"] = (folder / "inf.wav", "NaN or infinite")
    write(folder / "slow.wav", seconds=1000 / 200, rate=200)
    cases["absurd rate"] = (folder / "slow.wav", "sample rate 200 Hz is unusable")
    write(folder / "many.wav", seconds=0.1, channels=10)
    cases["10 channels"] = (folder / "many.wav", "more than 8 channels")
    return cases


def test_every_bad_input_gets_a_one_line_message_and_the_batch_goes_on(run, tmp_path):
    cases = make_bad_inputs(tmp_path)
    good = write(tmp_path / "good.wav", seconds=0.5)
    args = [str(path) for path, _ in cases.values()] + [str(good)]
    result = run("enhance", *args, "--output-dir", "out")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for name, (path, message) in cases.items():
        lines = [line for line in result.output.splitlines() if line.startswith(f"✗ {path}")]
        assert lines and message in lines[0], f"{name}: {lines}"
    assert (tmp_path / "out" / "good.wav").exists()
    assert f"1 of {len(cases) + 1} file(s) enhanced, {len(cases)} failed" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.wav"]


def broken_board(audio, sample_rate):
    raise RuntimeError("boom")


def test_a_bug_fails_its_file_in_one_line_and_debug_prints_the_traceback_the_outcome_carries(
    run, tmp_path, monkeypatch, capfd
):
    """`attempt` returns a bug's traceback with the outcome and prints nothing (only cli/ prints); the CLI shows
    it with --debug, above the file's ✗ line, and otherwise only the line that says how to see it."""
    source = write(tmp_path / "take.wav", seconds=0.2)
    outcome = attempt(broken_board, source, tmp_path / "out.wav")
    assert capfd.readouterr() == ("", "")
    assert outcome.trace is not None and outcome.trace.rstrip().endswith("RuntimeError: boom")
    monkeypatch.setattr("muse_fx.cli.enhance.build_board", lambda preset, **settings: broken_board)
    line = f"✗ {source}: unexpected RuntimeError: boom (run `muse-fx --debug enhance …` for details)"
    plain = run("enhance", str(source))
    assert plain.exit_code == 1 and line in plain.output and "Traceback" not in plain.output
    debug = run("--debug", "enhance", str(source))
    assert debug.exit_code == 1 and debug.output.index("Traceback (most recent call last)") < debug.output.index(line)


def test_silence_is_written_with_a_warning(run, tmp_path):
    source = write(tmp_path / "quiet.wav", value=0.0)
    result = run("enhance", str(source), "-o", "out.wav")
    assert result.exit_code == 0 and "is silent" in result.output
    assert np.all(sf.read("out.wav")[0] == 0)


def test_clipped_input_is_processed_with_a_warning(run, tmp_path):
    audio = np.clip(np.random.default_rng(0).standard_normal((22050, 2)), -1, 1)
    sf.write(str(tmp_path / "hot.wav"), audio, 44100, subtype="PCM_16")
    result = run("enhance", str(tmp_path / "hot.wav"), "-o", "out.wav")
    assert result.exit_code == 0, result.output
    assert "clipped at full scale" in result.output


def test_existing_output_is_never_overwritten_without_flag(run, tmp_path):
    source = write(tmp_path / "in.wav", seconds=0.5)
    (tmp_path / "out.wav").write_bytes(b"precious")
    result = run("enhance", str(source), "-o", "out.wav")
    assert result.exit_code == 1 and "already exists; pass --overwrite" in result.output
    assert (tmp_path / "out.wav").read_bytes() == b"precious"
    assert run("enhance", str(source), "-o", "out.wav", "--overwrite").exit_code == 0
    assert sf.info("out.wav").frames == 22050


def test_input_equal_to_output_is_refused_and_input_untouched(run, tmp_path):
    source = write(tmp_path / "in.wav", seconds=0.5)
    before = source.read_bytes()
    result = run("enhance", str(source), "-o", str(source), "--overwrite")
    assert result.exit_code == 1 and "output would replace its own input" in result.output
    assert source.read_bytes() == before


def test_output_that_is_a_folder(run, tmp_path):
    source = write(tmp_path / "in.wav", seconds=0.2)
    (tmp_path / "dir").mkdir()
    result = run("enhance", str(source), "-o", "dir")
    assert result.exit_code == 1 and "output path is a folder" in result.output


def test_output_folder_missing(run, tmp_path):
    source = write(tmp_path / "in.wav", seconds=0.2)
    result = run("enhance", str(source), "-o", "nowhere/out.wav")
    assert result.exit_code == 1 and "does not exist; create it first" in result.output


@pytest.mark.skipif(sys.platform != "linux", reason="uses a read-only Linux pseudo-filesystem")
def test_output_not_writable(run, tmp_path):
    source = write(tmp_path / "in.wav", seconds=0.2)
    target = "/proc/muse-fx-out.wav" if os.geteuid() == 0 else "/out.wav"
    result = run("enhance", str(source), "-o", target)
    assert result.exit_code == 1 and ("not writable" in result.output or "could not be written" in result.output)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("stage", ["processing", "writing"])
def test_interrupt_leaves_no_partial_output(run, tmp_path, monkeypatch, stage):
    source = write(tmp_path / "in.wav", seconds=25, rate=16000, channels=1)
    (tmp_path / "out.wav").write_bytes(b"older take")
    calls = []

    def interrupt_second_time(original):
        def wrapper(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt  # Ctrl-C after the first block went through
            return original(*args, **kwargs)

        return wrapper

    if stage == "processing":
        from muse_fx.plugin import MuseEnhance

        monkeypatch.setattr(MuseEnhance, "stream_block", interrupt_second_time(MuseEnhance.stream_block))
    else:
        import muse_fx.files

        monkeypatch.setattr(muse_fx.files, "_write_target", interrupt_second_time(lambda *a: None))
        calls.append(1)
    result = run("enhance", str(source), "-o", "out.wav", "--overwrite")
    assert result.exit_code == 130 and "no partial files were left" in result.output
    assert (tmp_path / "out.wav").read_bytes() == b"older take"
    assert leftovers(tmp_path) == []


def test_strength_reaches_the_engine_and_is_checked(run, tmp_path, tiny_model_path):
    from muse_fx import MuseEnhance
    from muse_fx.files import enhance_file

    source = write(tmp_path / "take.wav", seconds=0.5, subtype="FLOAT")
    assert run("enhance", str(source), "--strength", "0.3", "-o", "cli.wav").exit_code == 0
    assert run("enhance", str(source), "-o", "full.wav").exit_code == 0
    enhance_file(MuseEnhance(model=tiny_model_path, device="cpu", strength=0.3), source, tmp_path / "api.wav")
    cli, api, full = (sf.read(str(tmp_path / name))[0] for name in ("cli.wav", "api.wav", "full.wav"))
    np.testing.assert_array_equal(cli, api)
    assert not np.allclose(cli, full)
    refused = run("enhance", str(source), "--strength", "1.5", "-o", "bad.wav")
    assert refused.exit_code == 2 and "--strength" in refused.output and "0<=x<=1" in refused.output
    assert not (tmp_path / "bad.wav").exists()


def test_precision_reaches_the_engine_and_is_checked(run, tmp_path, tiny_model_path):
    """--precision bfloat16 computes the generator as MuseEnhance(precision="bfloat16") does, on any CPU."""
    from muse_fx import MuseEnhance
    from muse_fx.files import enhance_file

    source = write(tmp_path / "take.wav", seconds=0.5, subtype="FLOAT")
    for precision in ("float32", "bfloat16"):
        assert run("enhance", str(source), "--precision", precision, "-o", f"cli-{precision}.wav").exit_code == 0
        api = MuseEnhance(model=tiny_model_path, device="cpu", precision=precision)
        enhance_file(api, source, tmp_path / f"api-{precision}.wav")
        cli, expected = (sf.read(str(tmp_path / f"{kind}-{precision}.wav"))[0] for kind in ("cli", "api"))
        np.testing.assert_array_equal(cli, expected)
    exact, rounded = (sf.read(str(tmp_path / f"cli-{p}.wav"))[0] for p in ("float32", "bfloat16"))
    assert not np.array_equal(exact, rounded)
    refused = run("enhance", str(source), "--precision", "float16", "-o", "bad.wav")
    assert refused.exit_code == 2 and "--precision" in refused.output and "bfloat16" in refused.output
    assert not (tmp_path / "bad.wav").exists()


def test_presets_and_models_commands(run):
    listing = run("presets", "list").output
    assert "mastering-lite" in listing and "gentle" in listing
    assert 'type = "Limiter"' in run("presets", "show", "mastering-lite").output
    assert run("presets", "show", "nope").exit_code == 1
    assert run("models", "list").exit_code == 0


@pytest.mark.parametrize("name", ["", "default", *(entry.name for entry in list_models())])
def test_models_info_describes_every_bundled_model(run, name):
    """full-band has no musecoder: `models info` crashed on it with an AttributeError (issue 25)."""
    result = run("models", "info", *([name] if name else []))
    entry = get_entry(name or "default")
    assert result.exit_code == 0, result.output
    assert f"name         {entry.name}\n" in result.output and entry.recipe in result.output
    musecoder = "none (renders with the fast path only)" if entry.config.musecoder is None else "channels ×"
    assert musecoder in next(line for line in result.output.splitlines() if line.startswith("musecoder"))


def test_diffusion_without_a_musecoder_is_refused_in_each_interfaces_own_words(run, tmp_path, fast_only_model_path):
    """The command line was told `musecoder='fast'`, Python syntax (issue 25); Python keeps it."""
    source = write(tmp_path / "in.wav", seconds=0.2)
    args = ("enhance", str(source), "-o", "out.wav", "--model", str(fast_only_model_path), "--musecoder", "diffusion")
    result = run(*args, model=False)
    assert result.exit_code == 1 and not (tmp_path / "out.wav").exists()
    assert "has no musecoder" in result.output and "=" not in result.output.split("has no musecoder")[1]
    assert "use --musecoder fast, or a model with one, such as --model cpu-small" in result.output
    with pytest.raises(MuseFxError, match="use musecoder='fast', or a model with one, such as model='cpu-small'"):
        MuseEnhance(model=fast_only_model_path, musecoder="diffusion")(np.zeros(100, np.float32), 16000)


def test_unknown_preset_is_one_line(run, tmp_path):
    source = write(tmp_path / "in.wav", seconds=0.2)
    result = run("enhance", str(source), "--preset", "nope")
    assert result.exit_code == 1 and result.output.startswith("error: unknown preset 'nope'")


def test_several_inputs_with_dash_o_is_a_usage_error(run, tmp_path):
    a, b = write(tmp_path / "a.wav", seconds=0.1), write(tmp_path / "b.wav", seconds=0.1)
    result = CliRunner().invoke(main, ["enhance", str(a), str(b), "-o", "x.wav"])
    assert result.exit_code == 2 and "-o/--output takes one input" in result.output


@pytest.mark.parametrize(
    "extension, fmt, subtype", [("mp3", "MP3", "MPEG_LAYER_III"), ("ogg", "OGG", "VORBIS"), ("aiff", "AIFF", "PCM_16")]
)
def test_compressed_and_other_formats_round_trip(run, tmp_path, extension, fmt, subtype):
    audio = np.random.default_rng(0).standard_normal((22050, 2)) * 0.1
    source = tmp_path / f"in.{extension}"
    sf.write(str(source), audio, 44100, format=fmt, subtype=subtype)
    result = run("enhance", str(source))
    assert result.exit_code == 0, result.output
    info = sf.info(str(tmp_path / f"in_enhanced.{extension}"))
    assert (info.samplerate, info.channels, info.format) == (44100, 2, fmt)
