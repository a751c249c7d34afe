"""The server's side of bearer tokens (muse_fx.backends.bearer_token says where they come from): when one is mandatory,
and a constant-time check."""

from __future__ import annotations

import hmac
import ipaddress

from muse_fx.backends.bearer_token import TOKEN_ENV, TokenError


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
