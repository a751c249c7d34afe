"""Reading the multipart body with limits enforced as it streams in: size (with or without Content-Length)
and the request's deadline, so neither a huge nor a trickling upload can hold a slot for long."""

from __future__ import annotations

import time

import anyio
from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from muse_fx.server.params import FIELDS


def too_large(max_bytes: int) -> HTTPException:
    return HTTPException(413, f"the upload is larger than this server's limit of {max_bytes / 2**20:g} MiB")


async def read_form(request: Request, max_bytes: int, deadline: float) -> FormData:
    """The parsed form; 413 past `max_bytes`, 408 past `deadline` (time.monotonic()), 422 if malformed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    received = 0

    async def receive() -> Message:
        nonlocal received
        try:
            with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                message = await request.receive()
        except TimeoutError:
            raise HTTPException(408, "the upload did not arrive within the server's request timeout") from None
        received += len(message.get("body", b""))
        if received > max_bytes:
            raise too_large(max_bytes)
        return message

    try:
        return await Request(request.scope, receive).form(max_files=1, max_fields=len(FIELDS))
    except StarletteHTTPException as error:  # what starlette raises for a malformed body
        if error.status_code != 400:
            raise
        raise HTTPException(
            422, f"malformed multipart upload ({error.detail}); send the audio as form field 'file'"
        ) from None
