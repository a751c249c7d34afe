"""Presets: bundled ones load, user ones override, save/load round-trips, errors name file, entry and choices."""

import pytest
from pedalboard import Compressor, HighpassFilter, Limiter

from muse_fx import MuseEnhance, Pedalboard, load_preset, save_preset
from muse_fx.errors import PresetError
from muse_fx.presets import available, user_dir

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
        ('[[plugin]]\ntype = "Reverbb"\n', r"plugin #1: unknown plugin type 'Reverbb'; valid types: MuseEnhance, .*Reverb"),
        ('[[plugin]]\ntype = "Reverb"\nsize = 2\n', r"plugin #1: Reverb has no parameter 'size'; valid: room_size"),
        ('[[plugin]]\ntype = "Gain"\n[[plugin]]\ntype = "MuseEnhance"\nmixx = 1\n', r"plugin #2: unknown MuseEnhance key 'mixx'; valid: model"),
        ('[[plugin]]\ntype = "MuseEnhance"\nmix = 3\n', r"plugin #1: MuseEnhance: mix must be between"),
        ('[[plugin]]\ntype = "Compressor"\nratio = "high"\n', r"plugin #1: Compressor: bad value"),
        ('description = "x"\n', r"lists no plugins"),
        ("[[plugin]\n", r"is not valid TOML"),
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
