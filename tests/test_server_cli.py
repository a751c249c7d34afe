"""`muse-fx serve`: refuses unsafe or impossible set-ups with a clear message, else starts uvicorn."""

import pytest
from click.testing import CliRunner

from muse_fx.cli.serve import serve

pytest.importorskip("uvicorn", reason="the server tests need the `server` extra")


@pytest.fixture
def started(monkeypatch):
    """Capture what would be handed to uvicorn instead of serving forever."""
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append((app, options)))
    monkeypatch.delenv("MUSE_FX_TOKEN", raising=False)
    return calls


def run(*args, env=None):
    return CliRunner().invoke(serve, list(args), env=env)


def test_loopback_starts_without_a_token(started, tiny_model_path):
    result = run("--model", str(tiny_model_path), "--device", "cpu", "--port", "0")
    assert result.exit_code == 0, result.output
    assert "serving tiny on cpu at http://127.0.0.1:0" in result.output
    app, options = started[0]
    assert options["host"] == "127.0.0.1" and options["ssl_certfile"] is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])
def test_non_loopback_without_a_token_is_refused(started, tiny_model_path, host):
    result = run("--model", str(tiny_model_path), "--host", host)
    assert result.exit_code != 0 and not started
    assert f"refusing to listen on {host} without a token" in result.output
    assert "MUSE_FX_TOKEN" in result.output and "--token-file" in result.output


def test_non_loopback_with_a_token_starts_and_warns_about_plain_http(started, tiny_model_path, tmp_path):
    token = tmp_path / "token"
    token.write_text("abc123\n")
    result = run("--model", str(tiny_model_path), "--host", "0.0.0.0", "--token-file", str(token))
    assert result.exit_code == 0, result.output
    assert "(token required)" in result.output and "in the clear" in result.output
    assert run("--model", str(tiny_model_path), "--host", "0.0.0.0", env={"MUSE_FX_TOKEN": "t"}).exit_code == 0


def test_empty_or_missing_token_file_is_refused(started, tiny_model_path, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "is empty" in run("--model", str(tiny_model_path), "--token-file", str(empty)).output
    assert "cannot read token file" in run("--model", str(tiny_model_path), "--token-file", str(tmp_path / "no")).output
    assert not started


def test_a_model_that_cannot_load_is_a_clear_error(started, tmp_path):
    result = run("--model", str(tmp_path / "missing.safetensors"))
    assert result.exit_code != 0 and "does not exist" in result.output and not started


def test_tls_needs_both_key_and_certificate(started, tiny_model_path, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("x")
    result = run("--model", str(tiny_model_path), "--ssl-keyfile", str(key))
    assert result.exit_code != 0 and "go together" in result.output and not started


def test_without_a_bundled_default_the_message_says_what_to_pass(started, monkeypatch, tmp_path):
    monkeypatch.setattr("muse_fx.engine.registry.REGISTRY_FILE", tmp_path / "registry.toml")
    result = run()
    assert result.exit_code != 0 and "no default model is bundled" in result.output and not started


def test_connection_limits_reach_uvicorn(started, tiny_model_path):
    from muse_fx.server.connections import GuardedH11Protocol

    result = run("--model", str(tiny_model_path), "--device", "cpu", "--max-connections", "50", "--idle-timeout", "2")
    assert result.exit_code == 0, result.output
    _, options = started[0]
    assert options["http"] is GuardedH11Protocol and options["ws"] == "none"
    assert (options["limit_concurrency"], options["timeout_keep_alive"]) == (50, 2.0)


def test_limit_options_reach_the_server_config(started, tiny_model_path):
    from muse_fx.server.limits import ServerConfig
    from muse_fx.settings import default_server_batch

    result = run("--model", str(tiny_model_path), "--device", "cpu", "--timeout", "7", "--max-requests", "3")
    assert result.exit_code == 0, result.output
    config = started[0][0].state.server_config
    assert (config.request_timeout, config.max_requests) == (7.0, 3)
    assert (config.max_upload_mb, config.max_batch) == (ServerConfig().max_upload_mb, default_server_batch("cpu"))
