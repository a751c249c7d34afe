"""README.md's Python examples run as tests, so the first thing a newcomer copies works."""

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_python_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example-{i + 1}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write here
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})


def test_readme_enhance_commands_ask_for_diffusion_only_of_a_model_with_a_musecoder():
    """`--musecoder diffusion --steps 50` was refused with the default model, full-band (issue 25)."""
    from muse_fx.cli.enhance import enhance
    from muse_fx.engine.registry import get_entry

    commands = re.findall(r"^muse-fx enhance (.*)$", README.read_text(), flags=re.MULTILINE)
    diffusion = [enhance.make_context("enhance", shlex.split(line)).params for line in commands]
    diffusion = [params for params in diffusion if params["musecoder"] == "diffusion"]
    assert diffusion, "the README shows diffusion on the command line"
    for params in diffusion:
        assert get_entry(params["model"] or "default").config.musecoder is not None, params


def test_readme_test_command_is_what_ci_runs():
    text = README.read_text()
    command = re.search(r"<!-- test-command -->\n```\n(.*?)\n```\n<!-- /test-command -->", text, re.DOTALL)
    assert command and "pytest" in command.group(1)
    assert "test-command" in (README.parent / ".ci" / "run").read_text()


def _requirement_names(requirements: list[str]) -> set[str]:
    """Names as PEP 503 normalises them (tomli_w and tomli-w are one package)."""
    names = (re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0] for requirement in requirements)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def test_both_readme_commands_install_from_the_lock_and_the_lock_pins_every_dependency():
    """A fresh machine must resolve what CI last passed with, not whatever was released overnight."""
    import tomllib

    text = README.read_text()
    installs = re.findall(r"^pip install .*$", text, re.MULTILINE)
    assert len(installs) >= 2 and all("-c constraints.txt" in line for line in installs), installs
    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    declared = _requirement_names(project["dependencies"])
    for extra in ("test", "server", "train", "ray"):
        declared |= _requirement_names(project["optional-dependencies"][extra])
    lines = (README.parent / "constraints.txt").read_text().splitlines()
    pinned = {line.split("==")[0] for line in lines if "==" in line}
    assert declared - {"muse-fx"} <= pinned, sorted(declared - {"muse-fx"} - pinned)
    assert all("==" in line for line in lines if line and not line.startswith("#"))
