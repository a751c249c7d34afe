"""Where the bearer token comes from, read the same way by the server and by every client: a token file if one is
named, else $MUSE_FX_TOKEN."""

from __future__ import annotations

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
