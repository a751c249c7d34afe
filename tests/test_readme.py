"""README.md's Python examples run as tests, so the first thing a newcomer copies works."""

import re
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


def test_readme_test_command_is_what_ci_runs():
    text = README.read_text()
    command = re.search(r"<!-- test-command -->\n```\n(.*?)\n```\n<!-- /test-command -->", text, re.DOTALL)
    assert command and "pytest" in command.group(1)
    assert "test-command" in (README.parent / ".ci" / "run").read_text()
