"""What users read: server failures named as such, one-line warnings, progress in seconds, docs that match the code."""

import configparser
import fcntl
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audacity_fixture import audacity_config
from click.testing import CliRunner
from test_server_support import make_app

from muse_fx.backends.client import ServerClient
from muse_fx.cli import main
from muse_fx.engine.registry import get_entry
from muse_fx.server.runner import run_in_background

ROOT = Path(__file__).parents[1]
TOKEN = "messages-test-token"
DISK_BLAME = ("could not be written", "permissions")


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "take.wav"
    audio = 0.1 * np.random.default_rng(0).standard_normal((16000, 2))
    sf.write(path, audio.astype(np.float32), 16000)
    return path


@pytest.fixture
def no_retry_wait(monkeypatch):
    monkeypatch.setattr(ServerClient, "_wait", lambda self, attempt, retry_after=None: None)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again on leaving: nothing listens there
    return f"http://127.0.0.1:{port}"


def enhance(*args):
    return CliRunner().invoke(main, ["enhance", *map(str, args)])


# --- 16: server failures are reported as server failures ---------------------------------------------------


def test_unreachable_server_is_named_not_blamed_on_the_disk(clip, tmp_path, no_retry_wait):
    url = closed_port_url()
    result = enhance(clip, "-o", tmp_path / "out.wav", "--server", url)
    assert result.exit_code == 1
    assert f"cannot reach muse-fx server at {url}" in result.output
    assert "add --fallback-local" in result.output and "fallback_local=True" not in result.output
    assert not any(words in result.output for words in DISK_BLAME), result.output
    assert not (tmp_path / "out.wav").exists()


@pytest.fixture(scope="module")
def guarded_url(tiny_model_path):
    with run_in_background(make_app(tiny_model_path, token=TOKEN)) as url:
        yield url


@pytest.mark.parametrize(
    ("token", "said"),
    [(None, "requires a token and none was sent"), ("wrong", "refused the token")],
    ids=["missing", "wrong"],
)
def test_refused_token_is_named_with_options_that_exist(clip, tmp_path, guarded_url, monkeypatch, token, said):
    if token:
        monkeypatch.setenv("MUSE_FX_TOKEN", token)
    else:
        monkeypatch.delenv("MUSE_FX_TOKEN", raising=False)
    result = enhance(clip, "-o", tmp_path / "out.wav", "--server", guarded_url)
    assert result.exit_code == 1
    assert f"the server at {guarded_url} {said}" in result.output
    assert "set MUSE_FX_TOKEN" in result.output
    assert not any(words in result.output for words in DISK_BLAME), result.output
    # Every option the message names exists where it says: enhance's own, or the server's --token-file.
    enhance_options = CliRunner().invoke(main, ["enhance", "--help"]).output
    for option in re.findall(r"(?<![\w-])--[\w-]+", result.output.replace("the server's --token-file", "")):
        assert option in enhance_options, option


# --- 17: one clean warning line; a progress bar in seconds that clears before the result line ---------------


def test_fallback_local_warns_in_one_plain_line(clip, tmp_path, tiny_model_path, no_retry_wait):
    url = closed_port_url()
    result = enhance(clip, "-o", tmp_path / "out.wav", "--server", url, "--fallback-local", "--model", tiny_model_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    warned = [line for line in lines if "cannot reach" in line]
    assert warned == [
        f"! cannot reach muse-fx server at {url} ([Errno 111] Connection refused); enhancing on this "
        "machine instead (--fallback-local)"
    ]
    assert "Warning" not in result.output and ".py:" not in result.output
    assert lines[-1].startswith("✓ ")


def run_in_terminal(command: list[str], env: dict) -> str:
    """What a 100-column terminal receives from `command`: progress bars draw only on a terminal."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other side closed: Linux says EIO
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, received
    return received.decode()


def test_progress_bar_counts_seconds_of_audio_and_clears_before_the_result(clip, tmp_path, tiny_model_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable,
        "-c",
        "from muse_fx.cli import main; main()",
        "enhance",
        str(clip),
        "-o",
        str(tmp_path / "out.wav"),
        "--model",
        str(tiny_model_path),
    ]
    screen = run_in_terminal(command, env)
    assert "1.0/1.0 s audio" in screen and "chunk" not in screen
    [result_line] = [line for line in screen.split("\n") if "✓" in line]
    *before, shown = result_line.rstrip("\r").split("\r")
    assert shown.startswith("✓ ")  # at the start of the line, not glued to the bar
    assert before and not before[-1].strip()  # the bar was wiped first


# --- 18: documentation that matches the code --------------------------------------------------------------


def registry_default_musecoders() -> set[str]:
    return set(get_entry("default").default_musecoder.values())


def test_musecoder_help_states_the_registry_default():
    help_text = " ".join(CliRunner().invoke(main, ["enhance", "--help"]).output.split())
    assert registry_default_musecoders() == {"fast"}  # what the wording below was written for
    assert "diffusion (GPU default)" not in help_text
    assert "[default: fast on every device for the bundled model" in help_text


def test_server_doc_states_the_registry_default():
    text = " ".join((ROOT / "docs" / "server.md").read_text().split())
    assert "default `fast` on CPU, `diffusion` on a GPU" not in text
    assert "default: `fast` on every device for the bundled model" in text


def test_readme_commands_do_not_use_a_pipe_for_or():
    commands = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    text = (ROOT / "README.md").read_text()
    assert not re.search(r"\| *muse-fx", "".join(commands))  # muse-fx reads no stdin: a pipe into it is wrong
    assert not re.search(r"`muse-fx [^`]*\w\|\w[^`]*`", text)  # `data render|rirs` is not a command either


def test_audacity_readme_config_has_what_the_tested_config_has(tmp_path):
    """The headless snippet must hold every setting the real-Audacity tests need (their TempDir aside)."""
    module = tmp_path / "mod-script-pipe.so"
    module.touch()
    readme = (ROOT / "integrations" / "audacity" / "README.md").read_text()
    snippet = re.search(r"```ini\n(.*?)```", readme, flags=re.DOTALL).group(1)
    documented, tested = configparser.ConfigParser(), configparser.ConfigParser()
    for parser, text in ((documented, snippet), (tested, audacity_config(module, tmp_path))):
        parser.optionxform = str
        parser.read_string("[top]\n" + text)
    for section in tested.sections():
        for key in tested[section]:
            if section != "Directories":
                assert key in documented[section], f"[{section}] {key}"
    prose = " ".join(readme.split())
    assert "start Audacity once, wait for its project window, close it, start it again" in prose
    assert "keep the `[Version]` section" in prose and "welcome dialog" in prose


def test_presets_list_imports_no_engine():
    code = (
        "import sys\n"
        "from muse_fx.cli import main\n"
        "try:\n"
        "    main(['presets', 'list'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "heavy = sorted(m for m in ('torch', 'torchaudio', 'pedalboard', 'numpy') if m in sys.modules)\n"
        "print('heavy:', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "mastering-lite" in result.stdout
    assert "heavy: []" in result.stdout


# --- issue 25: muse-fx is not on PyPI ------------------------------------------------------------------------

# `pip install muse-fx`, `pipx install 'muse-fx[ray]'`, `pip install "torch" "muse-fx[ray]"`…: muse-fx asked of an
# index by name. Paths (`-e ~/muse_fx`, `.[ray]`) are installs from a clone, the only kind that works.
INSTALL_BY_NAME = re.compile(r"""\bpipx? install\b[^\n`)&;|]*?(?<![\w./~-])["']?muse[-_]fx\b(?![\w./-])""")


def test_install_by_name_is_recognised():
    found = ["pip install muse-fx", "pipx install muse-fx", "pip install 'muse-fx[ray]'", "pip install -U muse_fx"]
    found += ['pip install "torch" "muse-fx[ray]"']
    clone = ['pip install -c constraints.txt -e ".[ray]"', "cd ~/muse_fx && pip install -e .", "pip install ~/muse_fx"]
    clone += ["pip install -c constraints.txt -e . && muse-fx enhance take.wav"]
    assert [bool(INSTALL_BY_NAME.search(line)) for line in found + clone] == [True] * len(found) + [False] * len(clone)


def test_no_install_line_asks_an_index_for_muse_fx():
    """The READMEs, error hints and docs said `pip install muse-fx` and pip answered "No matching distribution"."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode:
        pytest.skip("not a git checkout")
    offending = []
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if path == Path(__file__):  # its examples
            continue
        text = path.read_text(errors="ignore") if path.is_file() and path.stat().st_size < 1 << 20 else ""
        offending += [f"{name}: {match.group()}" for match in INSTALL_BY_NAME.finditer(text)]
    assert not offending, offending
