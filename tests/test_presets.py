"""Presets: bundled ones load, user ones override, save/load round-trips, errors name file, entry and choices."""

import tomllib

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from pedalboard import Compressor, HighpassFilter, Limiter

from muse_fx import MuseEnhance, Pedalboard, load_preset, save_preset
from muse_fx.board import is_native
from muse_fx.errors import PresetError
from muse_fx.files import enhance_file
from muse_fx.loudness import MATCH_INPUT, Loudness, LoudnessMeter
from muse_fx.presets.chains import native_parameters
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
        names = native_parameters(type(plugin)) if is_native(plugin) else ["mix", "strength"]
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
            '[[plugin]]\ntype = "Reverbb"\n',
            r"plugin #1: unknown plugin type 'Reverbb'; valid types: MuseEnhance, .*Reverb",
        ),
        ('[[plugin]]\ntype = "Reverb"\nsize = 2\n', r"plugin #1: Reverb has no parameter 'size'; valid: room_size"),
        (
            '[[plugin]]\ntype = "Gain"\n[[plugin]]\ntype = "MuseEnhance"\nmixx = 1\n',
            r"plugin #2: unknown MuseEnhance key 'mixx'; valid: model",
        ),
        ('[[plugin]]\ntype = "MuseEnhance"\nmix = 3\n', r"plugin #1: MuseEnhance: mix must be between"),
        ('[[plugin]]\ntype = "MuseEnhance"\nstrength = 1.2\n', r"plugin #1: MuseEnhance: strength must be between 0.0"),
        ('[[plugin]]\ntype = "MuseEnhance"\nstrength = "half"\n', r"MuseEnhance: strength must be .*got 'half'"),
        ('[[plugin]]\ntype = "Compressor"\nratio = "high"\n', r"plugin #1: Compressor: bad value"),
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
