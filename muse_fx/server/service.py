"""What the routes do: report health and models, and take one enhance request from upload to response.

`enhance` takes the raw request rather than FastAPI form parameters so that the token (a route dependency) and
the queue are checked before a single byte of the upload is read.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from functools import partial
from typing import IO, TypeVar

import torch
from fastapi import HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from muse_fx import __version__
from muse_fx.engine.defaults import default_musecoder
from muse_fx.server.admission import Admission, Busy
from muse_fx.server.batcher import Batcher
from muse_fx.server.enhance import Cancelled, enhance_upload
from muse_fx.server.limits import ServerConfig
from muse_fx.server.model_pool import ServedModel
from muse_fx.server.params import parse_params, reject
from muse_fx.server.upload import read_form

CLIENT_GONE = 499  # nginx's status for "the client closed the connection"; nobody is left to read it
T = TypeVar("T")


async def run_unless_disconnected(request: Request, work: Callable[[threading.Event], T]) -> T:
    """Run `work(cancelled)` in a worker thread; `cancelled` is set if the client hangs up meanwhile."""
    cancelled = threading.Event()

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        cancelled.set()

    watcher = asyncio.create_task(watch())
    try:
        return await run_in_threadpool(work, cancelled)
    finally:
        watcher.cancel()


def iterate(file: IO[bytes], block: int = 1 << 20) -> Iterator[bytes]:
    while data := file.read(block):
        yield data


class Service:
    """The models (already on `device`; the first is the default), their batcher, the queue and the limits."""

    def __init__(
        self, models: dict[str, ServedModel], device: torch.device, config: ServerConfig, batcher: Batcher | None = None
    ):
        self.models, self.device, self.config = models, device, config
        self.batcher = batcher or Batcher(models, config.max_batch)
        self.admission = Admission(config.max_requests)
        self.musecoder = default_musecoder(device, next(iter(models)))  # the default model's measured choice
        self.fast_only = {name for name, served in models.items() if served.model.musecoder is None}

    def health(self) -> dict:
        return {
            "ready": self.batcher.running,
            "device": str(self.device),
            "version": __version__,
            "models": {m.name: m.version for m in self.models.values()},
            "requests": {"active": self.admission.active, "limit": self.admission.limit},
            "batching": {"queued": self.batcher.queued, **asdict(self.batcher.stats)},
        }

    def list_models(self) -> dict:
        entries = [
            {"name": m.name, "version": m.version, "sample_rate": m.model.sample_rate} for m in self.models.values()
        ]
        return {"default": next(iter(self.models)), "models": entries}

    async def enhance(self, request: Request) -> Response:
        """Multipart form: `file` (WAV/FLAC) plus optional model, musecoder, steps, mix, seed, full_band, output."""
        config = self.config
        try:
            with self.admission.slot():
                return await self._enhance(request, time.monotonic() + config.request_timeout)
        except Busy:
            raise HTTPException(
                503,
                f"the server is busy with {config.max_requests} requests; retry in {config.retry_after} s",
                headers={"Retry-After": str(config.retry_after)},
            ) from None
        except TimeoutError:
            raise HTTPException(
                504, f"enhancing took longer than this server's limit of {config.request_timeout:g} s"
            ) from None
        except (Cancelled, ClientDisconnect):
            return Response(status_code=CLIENT_GONE)

    async def _enhance(self, request: Request, deadline: float) -> Response:
        limits = self.config
        form = await read_form(request, limits.max_upload_bytes, deadline, limits.min_upload_bytes_per_second)
        try:
            params = parse_params(form, list(self.models), self.musecoder, self.config.request_batch, self.fast_only)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise reject("no complete audio file in the upload (missing or cut short); send WAV or FLAC as 'file'")
            work = partial(enhance_upload, upload.file, params, self.batcher, self.config, deadline)
            file, media_type = await run_unless_disconnected(request, work)
        finally:
            await form.close()
        size = file.seek(0, 2)
        file.seek(0)
        model = self.models[params.model]
        headers = {"Content-Length": str(size), "X-Muse-Fx-Model": f"{model.name} {model.version}"}
        closing = BackgroundTask(file.close)
        return StreamingResponse(iterate(file), media_type=media_type, headers=headers, background=closing)
