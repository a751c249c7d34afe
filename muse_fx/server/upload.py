"""Reading the multipart body with limits enforced as it streams in: size (with or without Content-Length),
the request's deadline and a minimum rate, so neither a huge nor a trickling upload can hold a slot for long."""

from __future__ import annotations

import time

import anyio
from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from muse_fx.server.params import FIELDS

UPLOAD_GRACE = 10.0  # seconds an upload may take whatever its rate (a connection's slow start, a client's disk)


def too_large(max_bytes: int) -> HTTPException:
    return HTTPException(413, f"the upload is larger than this server's limit of {max_bytes / 2**20:g} MiB")


async def read_form(request: Request, max_bytes: int, deadline: float, min_rate: float) -> FormData:
    """The parsed form; 413 past `max_bytes`, 422 if malformed, 408 past `deadline` (time.monotonic()) or once
    the upload falls behind `min_rate` bytes a second after its first UPLOAD_GRACE seconds: a trickle of bytes
    would otherwise hold a slot, and with every slot held the server answers 503 to everyone."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    started, received = time.monotonic(), 0

    async def receive() -> Message:
        nonlocal received
        due = started + UPLOAD_GRACE + received / min_rate  # when the bytes so far stop covering the rate
        try:
            with anyio.fail_after(max(0.0, min(deadline, due) - time.monotonic())):
                message = await request.receive()
        except TimeoutError:
            raise too_slow(min_rate) if due < deadline else timed_out() from None
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


def too_slow(min_rate: float) -> HTTPException:
    minimum = f"{min_rate / 1024:g} KiB/s"
    return HTTPException(408, f"the upload arrived slower than this server's minimum of {minimum}; use a faster link")


def timed_out() -> HTTPException:
    return HTTPException(408, "the upload did not arrive within the server's request timeout")
