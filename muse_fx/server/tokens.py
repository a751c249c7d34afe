"""Bearer tokens: where the token comes from, when one is mandatory, and a constant-time check."""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path

from muse_fx.errors import MuseFxError

TOKEN_ENV = "MUSE_FX_TOKEN"


class TokenError(MuseFxError, ValueError):
    """No usable token where one is needed."""


def resolve_token(token_file: str | os.PathLike | None = None) -> str | None:
    """The token in `token_file` if given, else $MUSE_FX_TOKEN; None when neither is set."""
    if token_file is None:
        return os.environ.get(TOKEN_ENV, "").strip() or None
    try:
        token = Path(token_file).read_text().strip()
    except OSError as error:
        raise TokenError(f"cannot read token file {token_file}: {error.strerror or error}") from None
    if not token:
        raise TokenError(f"token file {token_file} is empty; write the token into it, e.g. `openssl rand -hex 32`")
    return token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token_off_loopback(host: str, token: str | None) -> None:
    """Anyone who can reach a non-loopback address could use the device, so such a server needs a token."""
    if token is None and not is_loopback(host):
        raise TokenError(
            f"refusing to listen on {host} without a token: anyone who can reach it could use this machine. "
            f"Set {TOKEN_ENV} or pass --token-file PATH (create one with `openssl rand -hex 32 > FILE`), "
            "or listen on 127.0.0.1 and forward the port over SSH (see docs/server.md)"
        )


def token_matches(expected: str, authorization: str | None) -> bool:
    """Whether an `Authorization: Bearer …` header carries `expected`; constant time, so no timing oracle."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
