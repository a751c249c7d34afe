"""Presets: bundled ones load, user ones override, save/load round-trips, errors name file, entry and choices."""

import tomllib

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from click.testing import CliRunner
from pedalboard import Compressor, HighpassFilter, Limiter

from muse_fx import MuseEnhance, Pedalboard, load_preset, save_preset
from muse_fx.board import is_native, native_signature
from muse_fx.cli import main
from muse_fx.errors import PresetError
from muse_fx.files import enhance_file
from muse_fx.loudness import MATCH_INPUT, Loudness, LoudnessMeter
from muse_fx.presets.files import available, user_dir

BUNDLED = ["phone-recording", "live-room", "rehearsal-demo", "vocal-cleanup", "gentle", "mastering-lite"]


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_presets_load(name, tiny_model_path):
    board = load_preset(name, model=str(tiny_model_path), device="cpu")
    assert isinstance(board, Pedalboard) and isinstance(board[0], MuseEnhance)


def test_mastering_lite_is_enhance_highpass_compressor_limiter(tiny_model_path):
    board = load_preset("mastering-lite", model=str(tiny_model_path))
    assert [type(p) for p in board] == [MuseEnhance, HighpassFilter, Compressor, Limiter]


def test_gentle_has_a_low_mix_and_overrides_win(tiny_model_path):
    assert load_preset("gentle", model=str(tiny_model_path))[0].mix < 0.5
    assert load_preset("gentle", model=str(tiny_model_path), mix=0.8)[0].mix == 0.8


def test_round_trip(tmp_path, tiny_model_path):
    board = load_preset("rehearsal-demo", model=str(tiny_model_path))
    path = save_preset(board, tmp_path / "mine.toml", description="my chain")
    again = load_preset(path)
    assert [type(p) for p in again] == [type(p) for p in board]
    assert again[0].mix == board[0].mix and again[3].ratio == board[3].ratio
    assert again.loudness == board.loudness == Loudness(MATCH_INPUT, ceiling_db=-1.0)


@pytest.mark.parametrize("name", BUNDLED)
def test_a_saved_preset_reads_as_written_and_sets_the_same_parameters(name, tmp_path, tiny_model_path):
    """pedalboard reads a q of 1.2 back as 1.2000000476837158, which the audition page showed (issue 25)."""
    board = load_preset(name, model=str(tiny_model_path))
    saved = save_preset(board, tmp_path / "saved.toml")
    written = tomllib.loads(available()[name].read_text())["plugin"]
    for given, wrote in zip(written, tomllib.loads(saved.read_text())["plugin"]):
        assert {key: wrote[key] for key in given if key != "model"} == {k: v for k, v in given.items() if k != "model"}
    for plugin, again in zip(board, load_preset(saved)):
        names = native_signature(type(plugin)) if is_native(plugin) else ["mix", "strength"]
        assert [getattr(again, k) for k in names] == [getattr(plugin, k) for k in names]


def test_strength_is_a_preset_key_that_round_trips(tmp_path, tiny_model_path):
    path = tmp_path / "soft.toml"
    path.write_text(f'[[plugin]]\ntype = "MuseEnhance"\nstrength = 0.4\nmodel = "{tiny_model_path}"\n')
    assert load_preset(path)[0].strength == 0.4
    assert load_preset(path, strength=0.7)[0].strength == 0.7  # a setting given on the command line wins
    again = load_preset(save_preset(load_preset(path), tmp_path / "again.toml"))
    assert again[0].strength == 0.4 and "strength = 0.4" in (tmp_path / "again.toml").read_text()
    assert load_preset("gentle", model=str(tiny_model_path))[0].strength == 1.0  # presets without it cut fully


def test_user_presets_add_and_override(tiny_model_path):
    folder = user_dir()
    folder.mkdir(parents=True)
    (folder / "gentle.toml").write_text(f'[[plugin]]\ntype = "MuseEnhance"\nmix = 0.1\nmodel = "{tiny_model_path}"\n')
    (folder / "mine.toml").write_text('[[plugin]]\ntype = "Gain"\ngain_db = -3.0\n')
    assert {"gentle", "mine"} <= set(available())
    assert available()["gentle"].parent == folder
    assert load_preset("gentle")[0].mix == 0.1


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[[plugin]]\ntype = "LowpassFilter"\ncutoff_frequency_hz = nan\n',
            r"#1: LowpassFilter: cutoff_frequency_hz is nan; give a",
        ),
        (
            '[[plugin]]\ntype = "HighpassFilter"\ncutoff_frequency_hz = -50\n',
            r"cutoff_frequency_hz must be a frequency above 0 Hz",
        ),
        (
            '[[plugin]]\ntype = "LadderFilter"\ncutoff_hz = 0\n',
            r"LadderFilter: cutoff_hz must be a frequency above 0 Hz, got 0",
        ),
        ('[[plugin]]\ntype = "Gain"\ngain_db = inf\n', r"plugin #1: Gain: gain_db is inf; give a finite number"),
        (
            '[[plugin]]\ntype = "PeakFilter"\ngain_db = 400\n',
            r"PeakFilter: gain_db must be a level in dB from -120 to \+60, got 400",
        ),
        (
            '[[plugin]]\ntype = "Chorus"\nfeedback = 5\n',
            r"Chorus: feedback must be a feedback amount from -1 to \+1, got 5",
        ),
        ('[[plugin]]\ntype = "Limiter"\nrelease_ms = nan\n', r"Limiter: release_ms is nan"),
        ('[[plugin]]\ntype = "Resample"\ntarget_sample_rate = 1e6\n', r"target_sample_rate must be a rate above 0 Hz"),
        ('[[plugin]]\ntype = "Gain"\ngain_db = "loud"\n', r"Gain: gain_db must be a number, got 'loud'"),
        ('plugin = ["Gain"]\n', r"plugin #1: is 'Gain', not a table: write each plugin as \[\[plugin\]\]"),
        ('[plugin]\ntype = "Gain"\n', r": write \[\[plugin\]\], with double brackets, above each plugin's keys"),
        ("[[plugin]]\ngain_db = 1\n", r"plugin #1: has no type; give type = one of MuseEnhance, .*Gain"),
        ('[[plugin]]\ntype = ["Gain"]\n', r"plugin #1: has type \['Gain'\], not a name; give type = one of"),
        (
            'loudnes = -14\n[[plugin]]\ntype = "Gain"\n',
            r"unknown key 'loudnes' \(did you mean 'loudness'\?\); valid: desc",
        ),
        (
            '[[plugin]]\ntype = "Gain"\nloudness = -14\n',
            r"Gain has no parameter 'loudness': 'loudness' belongs at the top",
        ),
        (
            '[[plugin]]\ntype = "Gain"\nloudnes = -14\n',
            r"'loudnes' \(did you mean 'loudness'\?\): 'loudness' belongs at",
        ),
        ('mix = 0.5\n[[plugin]]\ntype = "Gain"\n', r"unknown key 'mix': 'mix' is a MuseEnhance setting: put it in"),
        ('[[plugin]]\ntype = "Gain"\n[extra]\nx = 1\n', r"unknown key 'extra'; valid: description, loudness"),
        ('description = 3\n[[plugin]]\ntype = "Gain"\n', r"description must be text in quotes, got 3"),
        (
            '[[plugin]]\ntype = "Convolution"\nimpulse_response_filename = "room.wav"\n',
            r"plugin #1: Convolution: impulse_response_filename: no file at .*room.wav; give the path of an audio file",
        ),
    ],
)
def test_every_preset_fault_is_one_message_naming_file_plugin_and_fix(tmp_path, text, message):
    """NaN, infinite or out-of-range values, malformed tables, missing files and misspelt keys: each gets one
    message naming the file, the plugin or key, what is wrong and what to give instead (was accepted, ignored or a
    traceback)."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PresetError, match=message) as error:
        load_preset(path)
    assert str(error.value).startswith(f"preset {path}")


def test_an_impulse_response_is_read_from_the_presets_folder(tmp_path, monkeypatch):
    impulse = np.zeros(256, np.float32)
    impulse[0] = 1.0
    sf.write(tmp_path / "room.wav", impulse, 44100)
    (tmp_path / "room.toml").write_text('[[plugin]]\ntype = "Convolution"\nimpulse_response_filename = "room.wav"\n')
    monkeypatch.chdir(tmp_path.parent)
    board = load_preset(tmp_path / "room.toml")
    audio = np.random.default_rng(0).standard_normal((1, 4410)).astype(np.float32) * 0.1
    assert np.corrcoef(board(audio, 44100)[0], audio[0])[0, 1] > 0.99  # a unit impulse (pedalboard scales it)


def test_a_cutoff_above_nyquist_is_named_when_the_rate_is_known(tmp_path):
    """A 30 kHz low-pass is fine on 96 kHz audio; on 44.1 kHz audio pedalboard returned Inf, now the preset is named."""
    path = tmp_path / "bright.toml"
    path.write_text('[[plugin]]\ntype = "Gain"\n[[plugin]]\ntype = "LowpassFilter"\ncutoff_frequency_hz = 30000\n')
    board = load_preset(path)
    noise = np.random.default_rng(0).standard_normal((2, 9600)).astype(np.float32) * 0.1
    assert np.isfinite(board(noise, 96000)).all()
    message = rf"preset {path}: plugin #2: LowpassFilter: cutoff_frequency_hz 30000 Hz is not below 22050 Hz"
    with pytest.raises(PresetError, match=message + r", the highest frequency 44100 Hz audio holds; set it below"):
        board(noise, 44100)
    with pytest.raises(PresetError, match=message):
        board.process(noise, 44100, reset=False)


def test_presets_list_names_a_broken_user_preset_and_goes_on():
    folder = user_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("[[plugin]\n")
    result = CliRunner().invoke(main, ["presets", "list"])
    assert result.exit_code == 0, result.output
    assert f"! {folder / 'broken.toml'} is not a valid preset file (Expected" in result.output
    assert "mastering-lite" in result.output


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[[plugin]]\ntype = "Reverbb"\n',
            r"plugin #1: unknown plugin type 'Reverbb' \(did you mean 'Reverb'\?\); give type = one of MuseEnhance, ",
        ),
        (
            '[[plugin]]\ntype = "Reverb"\nsize = 2\n',
            r"#1: Reverb has no parameter 'size' \(did you mean 'room_size'\?\); valid: room",
        ),
        (
            '[[plugin]]\ntype = "Reverb"\nwetness = 2\n',
            r"#1: Reverb has no parameter 'wetness'; valid: room_size, damping",
        ),
        (
            '[[plugin]]\ntype = "Gain"\n[[plugin]]\ntype = "MuseEnhance"\nmixx = 1\n',
            r"plugin #2: unknown MuseEnhance key 'mixx' \(did you mean 'mix'\?\); valid: model",
        ),
        ('[[plugin]]\ntype = "MuseEnhance"\nmix = 3\n', r"plugin #1: MuseEnhance: mix must be between"),
        ('[[plugin]]\ntype = "MuseEnhance"\nstrength = 1.2\n', r"plugin #1: MuseEnhance: strength must be between 0.0"),
        ('[[plugin]]\ntype = "MuseEnhance"\nstrength = "half"\n', r"MuseEnhance: strength must be .*got 'half'"),
        (
            '[[plugin]]\ntype = "Compressor"\nratio = "high"\n',
            r"plugin #1: Compressor: ratio must be a number, got 'high'",
        ),
        ('[[plugin]]\ntype = "Compressor"\nratio = 0.5\n', r"plugin #1: Compressor: bad value \(.*ratio must be"),
        ('description = "x"\n', r"lists no plugins"),
        ("[[plugin]\n", r"is not valid TOML"),
        ('loudness = "loud"\n[[plugin]]\ntype = "Gain"\n', r'loudness must be "match-input" or a LUFS value'),
        ('loudness = -14\npeak_ceiling_db = 3\n[[plugin]]\ntype = "Gain"\n', r"peak_ceiling_db must be a dBFS"),
        ('peak_ceiling_db = -1\n[[plugin]]\ntype = "Gain"\n', r"peak_ceiling_db needs a loudness key"),
    ],
)
def test_validation_names_file_entry_key_and_choices(tmp_path, text, message, tiny_model_path):
    path = tmp_path / "bad.toml"
    text = text.replace('type = "MuseEnhance"', f'type = "MuseEnhance"\nmodel = "{tiny_model_path}"')
    path.write_text(text)
    with pytest.raises(PresetError, match=message) as error:
        load_preset(path)
    assert str(path) in str(error.value)


def test_unknown_preset_name_lists_the_choices():
    with pytest.raises(PresetError, match="unknown preset 'nope'; available: gentle, live-room"):
        load_preset("nope")


# --- loudness: cleaning presets keep the input's, mastering presets end at their LUFS target ---------------

RATE = 44100


def noisy_chord(seconds: float = 3.0, level: float = 0.3) -> np.ndarray:
    """(samples, 2): four swelling partials of a chord in hiss, at a home recording's level (about -20 LUFS)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    tones = sum(
        np.sin(2 * np.pi * f * t + i) * (0.5 + 0.5 * np.sin(2 * np.pi * (0.5 + 0.3 * i) * t))
        for i, f in enumerate((220.0, 277.2, 329.6, 440.0))
    )
    left = level * tones / np.abs(tones).max() + 0.02 * rng.standard_normal(t.size)
    return np.stack([left, 0.8 * left + 0.01 * rng.standard_normal(t.size)], axis=1)


def lufs(path) -> float:
    audio, rate = sf.read(path)
    return pyloudnorm.Meter(rate).integrated_loudness(audio)


@pytest.mark.parametrize("name", BUNDLED)
def test_each_bundled_preset_ends_at_its_loudness(name, tmp_path):
    """With the bundled model, as users run them: no preset leaves a recording 2-4 dB quieter than it says."""
    source, result = tmp_path / "take.wav", tmp_path / "out.wav"
    sf.write(source, noisy_chord(), RATE, subtype="PCM_24")
    board = load_preset(name, device="cpu")
    assert board.loudness is not None, f"{name} sets no loudness"

    enhance_file(board, source, result)

    wanted = lufs(source) if board.loudness.target == MATCH_INPUT else board.loudness.target
    assert abs(lufs(result) - wanted) <= 0.5
    if board.loudness.ceiling_db is not None:
        assert 20 * np.log10(np.abs(sf.read(result)[0]).max()) <= board.loudness.ceiling_db + 0.01


def test_peak_ceiling_stops_the_gain_and_says_so(tmp_path):
    preset, source, result = tmp_path / "loud.toml", tmp_path / "take.wav", tmp_path / "out.wav"
    preset.write_text('loudness = -6.0\npeak_ceiling_db = -1.0\n[[plugin]]\ntype = "Gain"\ngain_db = 0.0\n')
    sf.write(source, noisy_chord(), RATE, subtype="FLOAT")

    outcome = enhance_file(load_preset(preset), source, result)

    peak_db = 20 * np.log10(np.abs(sf.read(result)[0]).max())
    assert abs(peak_db - -1.0) < 0.01  # as loud as the ceiling lets it be, no louder
    assert lufs(result) < -7.0
    [warning] = outcome.warnings
    assert (
        f"reached {lufs(result):.1f} LUFS, not the preset's -6.0: its peak ceiling stopped the make-up gain" in warning
    )


def test_silence_stays_silent_under_a_loudness_target(tmp_path):
    preset, source, result = tmp_path / "master.toml", tmp_path / "silence.wav", tmp_path / "out.wav"
    preset.write_text('loudness = -14.0\n[[plugin]]\ntype = "Gain"\ngain_db = 0.0\n')
    sf.write(source, np.zeros((RATE, 2)), RATE, subtype="PCM_16")
    enhance_file(load_preset(preset), source, result)
    assert not np.any(sf.read(result)[0])


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (8001, 1), (48000, 5)])
def test_block_by_block_meter_agrees_with_pyloudnorm(rate, channels):
    audio = 0.1 * np.random.default_rng(1).standard_normal((channels, int(rate * 3.05)))
    audio[:, : audio.shape[1] // 3] *= 0.01  # a quiet stretch, for the gates to drop
    meter = LoudnessMeter(rate, channels)
    for start in range(0, audio.shape[1], 12345):  # blocks that end anywhere within a gating hop
        meter.update(audio[:, start : start + 12345])
    assert meter.integrated == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(audio.T), abs=0.01)
