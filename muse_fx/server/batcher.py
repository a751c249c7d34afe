"""One thread owns the models and runs every forward pass, packing chunks from concurrent requests together.

Jobs only share a pass when everything that shapes the output matches (model, rate, chunk shape, settings);
diffusion noise is seeded per chunk index, so a request's result does not depend on who it was batched with.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from muse_fx.engine.pipeline import Enhancer
from muse_fx.server.model_pool import ServedModel
from muse_fx.settings import Settings

MAX_ENHANCERS = 64  # cached (model, settings) pairs; requests choose mix and seed freely


@dataclass(frozen=True)
class BatchKey:
    model: str
    sample_rate: int
    shape: tuple[int, int]  # (channels, samples) of each chunk
    settings: Settings


@dataclass
class Job:
    key: BatchKey
    chunks: torch.Tensor  # (n, channels, samples) on the CPU
    indices: list[int]
    future: Future = field(default_factory=Future)


@dataclass
class BatchStats:
    passes: int = 0
    chunks: int = 0
    jobs: int = 0
    most_jobs: int = 0  # the most requests that ever shared one pass
    most_chunks: int = 0


class Batcher:
    """`submit` from any thread; a single worker thread groups pending jobs and runs `Enhancer.process_chunks`."""

    def __init__(self, models: dict[str, ServedModel], max_batch: int):
        self._models, self._max_batch = models, max_batch
        self._pending: deque[Job] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._enhancers: dict[tuple[str, Settings], Enhancer] = {}
        self.stats = BatchStats()

    @property
    def queued(self) -> int:
        """Chunk batches waiting for a pass."""
        return len(self._pending)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="muse-fx-batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the pass in progress, then fail whatever is still queued."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
        while self._pending:
            future = self._pending.popleft().future
            if future.set_running_or_notify_cancel():  # a request that timed out has cancelled its own already
                future.set_exception(RuntimeError("the server is shutting down"))

    def submit(self, key: BatchKey, chunks: torch.Tensor, indices: list[int]) -> Future:
        """Queue (n, channels, samples) chunks; the future gives them enhanced, the same shape."""
        job = Job(key, chunks, list(indices))
        with self._wake:
            self._pending.append(job)
            self._wake.notify()
        return job.future

    def _take(self) -> list[Job]:
        """The oldest job plus later ones with the same key, up to `max_batch` chunks; [] once stopping."""
        with self._wake:
            while not self._pending and not self._stopping:
                self._wake.wait()
            if self._stopping:
                return []
            taken = [self._pending.popleft()]
            size = len(taken[0].indices)
            for job in list(self._pending):
                if job.key == taken[0].key and size + len(job.indices) <= self._max_batch:
                    self._pending.remove(job)
                    taken.append(job)
                    size += len(job.indices)
            return taken

    def _enhancer(self, key: BatchKey) -> Enhancer:
        if (key.model, key.settings) not in self._enhancers:
            if len(self._enhancers) >= MAX_ENHANCERS:
                self._enhancers.clear()
            self._enhancers[(key.model, key.settings)] = Enhancer(self._models[key.model].model, key.settings)
        return self._enhancers[(key.model, key.settings)]

    def _run(self, jobs: list[Job]) -> None:
        jobs = [job for job in jobs if job.future.set_running_or_notify_cancel()]  # timed-out requests drop out
        if not jobs:
            return
        key = jobs[0].key
        try:
            chunks = torch.cat([job.chunks for job in jobs])
            out = self._enhancer(key).process_chunks(chunks, [i for job in jobs for i in job.indices], key.sample_rate)
        except Exception as error:  # e.g. out of device memory: every request in the pass learns why
            for job in jobs:
                job.future.set_exception(error)
            return
        for job, part in zip(jobs, out.split([len(job.indices) for job in jobs]), strict=True):
            job.future.set_result(part)
        self.stats.passes += 1
        self.stats.chunks += len(chunks)
        self.stats.jobs += len(jobs)
        self.stats.most_jobs = max(self.stats.most_jobs, len(jobs))
        self.stats.most_chunks = max(self.stats.most_chunks, len(chunks))

    def _loop(self) -> None:
        with torch.inference_mode():
            while jobs := self._take():
                self._run(jobs)
