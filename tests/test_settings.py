"""muse_fx.settings declares each enhancement setting once; the CLI, the server, presets and MuseEnhance derive
from it, so a declaration's change is seen everywhere."""

import dataclasses
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from muse_fx import settings
from muse_fx.cli.audacity import enhance_selection
from muse_fx.cli.enhance import enhance
from muse_fx.plugin import MuseEnhance
from muse_fx.presets.chains import MUSE_PARAMETERS, SAVED_MUSE_PARAMETERS
from muse_fx.settings import MAX_SEED, MIX, MUSECODER, SEED, STEPS, STRENGTH, Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "setting, value, message",
    [
        (MIX, 2, "mix must be between 0.0 (dry) and 1.0 (fully enhanced), got 2"),
        (MIX, "high", "mix must be between 0.0 (dry) and 1.0 (fully enhanced), got 'high'"),
        (STRENGTH, None, "strength must be between 0.0 (no noise cut at all) and 1.0 (the model's full reduction)"),
        (STEPS, 7, "steps must be 6 (fast schedule) or 50 (the paper's full chain), got 7"),
        (STEPS, "6", "steps must be 6 (fast schedule) or 50 (the paper's full chain), got '6'"),
        (MUSECODER, "hifigan", "musecoder must be one of fast, diffusion, got 'hifigan'"),
        (SEED, 1.5, f"seed must be a non-negative integer up to {MAX_SEED} (2**63 - 1), got 1.5"),
        (SEED, MAX_SEED + 1, "seed must be a non-negative integer up to"),
        (settings.BATCH_SIZE, 0, "batch_size must be a positive integer, got 0"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting_what_is_valid_and_what_came(setting, value, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        setting.check(value)


def test_a_good_value_comes_back_as_the_declared_type():
    assert (MIX.check("0.5"), STEPS.check(50.0), SEED.check(MAX_SEED)) == (0.5, 50, MAX_SEED)
    assert type(STEPS.check(50.0)) is int and settings.FULL_BAND.check(0) is False


def test_settings_holds_each_declared_setting_checked_and_defaulted_as_declared():
    for field in dataclasses.fields(Settings):
        assert field.default == settings.DECLARED[field.name].default, field.name
    assert Settings(steps=50.0).steps == 50
    with pytest.raises(ValueError, match="mix must be between"):
        Settings(mix=2)


def _option(command: click.Command, name: str) -> click.Option:
    return next(param for param in command.params if param.name == name)


def test_enhance_options_take_choices_ranges_and_help_from_the_declarations():
    assert _option(enhance, "steps").type.choices == tuple(str(steps) for steps in STEPS.choices)
    assert _option(enhance, "musecoder").type.choices == tuple(MUSECODER.choices)
    seed = _option(enhance, "seed").type
    assert (seed.min, seed.max) == (SEED.low, SEED.high)
    for command in (enhance, enhance_selection):
        for setting in (MIX, STRENGTH):
            option = _option(command, setting.name)
            assert (option.type.min, option.type.max) == (setting.low, setting.high)
            assert option.help.startswith(setting.help) and option.help.endswith(f"[default: {setting.default:g}]")
    assert "fast schedule" in _option(enhance, "steps").help


def test_a_choice_reaches_the_plugin_as_the_declared_type():
    context = enhance.make_context("enhance", ["in.wav", "--steps", "50", "--seed", "3"])
    assert (context.params["steps"], context.params["seed"], context.params["mix"]) == (50, 3, None)


def test_presets_accept_the_declared_sound_settings_and_the_device():
    assert MUSE_PARAMETERS == tuple(setting.name for setting in settings.PRESET)
    assert SAVED_MUSE_PARAMETERS == tuple(setting.name for setting in settings.SOUND)
    assert "device" in MUSE_PARAMETERS and "device" not in SAVED_MUSE_PARAMETERS


def test_settings_holds_the_rendering_settings_in_their_declared_order_and_is_built_by_name():
    names = [field.name for field in dataclasses.fields(Settings)]
    engine = (settings.BATCH_SIZE, settings.WARM_START, settings.PRECISION)
    assert names == [setting.name for setting in (*settings.RENDERING, *engine)]
    with pytest.raises(TypeError):
        Settings("fast", 6)  # type: ignore[misc]  # positional values would land in whatever field comes first


def test_muse_enhance_builds_its_settings_by_name(tiny_model_path):
    """Settings' fields once came in another order than the plugin passed them positionally."""
    plugin = MuseEnhance(model=tiny_model_path, device="cpu", steps=50, mix=0.25, strength=0.5, seed=7)
    chosen = plugin._settings()
    assert (chosen.steps, chosen.mix, chosen.strength, chosen.seed, chosen.full_band) == (50, 0.25, 0.5, 7, True)
    assert chosen.batch_size == settings.default_batch_size("cpu", plugin.musecoder)


def test_muse_enhance_checks_each_declared_attribute_whenever_it_is_set(tiny_model_path):
    plugin = MuseEnhance(model=tiny_model_path, device="cpu")
    for setting, bad in ((STEPS, 7), (MIX, 2), (STRENGTH, -0.5), (SEED, 1.5), (MUSECODER, "hifigan")):
        with pytest.raises(ValueError, match=f"^{setting.name} must be"):
            setattr(plugin, setting.name, bad)
        with pytest.raises(ValueError, match=f"^{setting.name} must be"):
            MuseEnhance(model=tiny_model_path, device="cpu", **{setting.name: bad})
    plugin.steps, plugin.full_band = 50.0, 0
    assert type(plugin.steps) is int and plugin.full_band is False
    assert MuseEnhance.strength.__doc__.startswith(STRENGTH.help)


def test_muse_enhance_repr_names_its_settings_as_before(tiny_model_path):
    plugin = MuseEnhance(model=tiny_model_path, device="cpu", mix=0.5, strength=0.25, seed=3)
    assert repr(plugin) == (
        f'<muse_fx.MuseEnhance model="{tiny_model_path}" musecoder="fast" steps=6 mix=0.5 strength=0.25 '
        f'device="cpu" seed=3 at {hex(id(plugin))}>'
    )
    remote = MuseEnhance(server="http://studio:8765")
    assert repr(remote).endswith(f' seed=0 server="http://studio:8765" at {hex(id(remote))}>')


def test_remote_fields_are_the_rendering_settings_those_added_later_only_when_not_at_their_default():
    from muse_fx.backends.remote import RemoteEnhancement

    sent = RemoteEnhancement("http://studio:8765")._fields(Settings(mix=0.5))
    assert sent == {"musecoder": "fast", "steps": 6, "mix": 0.5, "seed": 0, "full_band": True}
    sent = RemoteEnhancement("http://studio:8765", "cpu-small", server_musecoder=True)._fields(Settings(strength=0.5))
    assert sent == {"steps": 6, "mix": 1.0, "strength": 0.5, "seed": 0, "full_band": True, "model": "cpu-small"}
    assert set(sent) | {"musecoder"} == {setting.name for setting in settings.SOUND}


def test_enhancer_and_plugin_fill_in_the_musecoder_and_batch_size_in_one_place(tiny_model_path, monkeypatch):
    from muse_fx.engine import defaults
    from muse_fx.engine.pipeline import Enhancer

    asked = []
    monkeypatch.setattr(defaults, "default_batch_size", lambda device, musecoder: asked.append(musecoder) or 3)
    assert Enhancer.from_pretrained(tiny_model_path, device="cpu", musecoder="diffusion").settings.batch_size == 3
    assert MuseEnhance(model=tiny_model_path, device="cpu")._settings().batch_size == 3
    assert asked == ["diffusion", "fast"]


def test_muse_enhance_takes_every_preset_key_with_the_declared_default():
    parameters = inspect.signature(MuseEnhance).parameters
    for setting in settings.PRESET:
        expected = None if setting is MUSECODER else setting.default  # None: what suits the device
        assert parameters[setting.name].default == expected, setting.name


def test_server_fields_and_422s_come_from_the_declarations():
    pytest.importorskip("fastapi", reason="the server tests need the `server` extra")
    from fastapi import HTTPException
    from starlette.datastructures import FormData

    from muse_fx.server.params import FIELDS, parse_params

    assert FIELDS == ("file", *(setting.name for setting in settings.SOUND), "output")
    chosen = parse_params(FormData(), ["tiny"], "diffusion", 2)
    assert chosen.settings == Settings(musecoder="diffusion", batch_size=2) and chosen.output == "float32"
    with pytest.raises(ValueError) as declared:
        MIX.check(2.5)
    with pytest.raises(HTTPException) as refused:
        parse_params(FormData([("mix", "2.5")]), ["tiny"], "fast", 2)
    assert refused.value.status_code == 422 and refused.value.detail == str(declared.value)


def test_a_changed_declaration_is_seen_by_the_cli_the_server_presets_and_the_plugin(tiny_model_path):
    """Declare mix's default 0.25 (before anything imports it), then ask each surface."""
    code = textwrap.dedent(
        f"""
        import inspect
        import muse_fx.settings

        object.__setattr__(muse_fx.settings.MIX, "default", 0.25)
        from starlette.datastructures import FormData

        from muse_fx.cli.enhance import enhance
        from muse_fx.integrations.audacity_panel_settings import PanelSettings
        from muse_fx.plugin import MuseEnhance
        from muse_fx.server.params import parse_params

        print("cli", next(p for p in enhance.params if p.name == "mix").help)
        print("server", parse_params(FormData(), ["tiny"], "fast", 1).settings.mix)
        print("plugin", MuseEnhance(model={str(tiny_model_path)!r}, device="cpu").mix)
        print("panel", PanelSettings().mix)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["cli"].endswith("[default: 0.25]")
    assert lines["server"] == lines["plugin"] == lines["panel"] == "0.25"


def test_serve_offers_each_server_limit_with_its_declared_default_and_help():
    from muse_fx.cli.serve import serve
    from muse_fx.server.limits import ServerConfig, offered_limits

    offered = {limit.name: limit for limit in offered_limits()}
    assert "request_timeout" in offered and "token" not in offered and "max_batch" not in offered
    for name, limit in offered.items():
        option = _option(serve, name)
        assert (option.default, option.help) == (getattr(ServerConfig(), name), limit.metadata["help"])
    assert _option(serve, "request_timeout").opts == ["--timeout"]
    assert "[32 on CUDA, else 8]" in _option(serve, "batch_size").help


def test_strength_is_spelled_out_only_by_its_declaration_the_engine_and_what_must_name_it():
    """Everything else derives it from muse_fx.settings (issue 28: it was named in 16 modules outside training)."""
    package = ROOT / "muse_fx"
    naming = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "training" not in path.parts and "strength" in path.read_text(encoding="utf-8")
    }
    assert naming == {
        "settings.py",  # the declaration
        "engine/pipeline.py",  # applies it
        "engine/fast_path.py",  # limit_attenuation, what it does
        "plugin.py",  # MuseEnhance(strength=…), the public keyword
        "integrations/audacity_panel_settings.py",  # the panel's saved file names its slider
        "evaluation/systems.py",  # `muse-fx eval`'s fast@S names
    }
