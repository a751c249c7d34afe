"""`muse-fx enhance --ray`: a library of files enhanced by a pool of Ray actors, each holding the model once.

Files reach the workers in one of two ways. Shared paths (the default): every node sees the inputs and the
output folder at the same paths (NFS, a shared volume) and workers write the outputs themselves. Shipped
bytes (`ship=True`): for clusters without shared storage, the driver sends each input's bytes, a worker
enhances a private copy and returns the output files, and the driver writes them. Either way the per-file
work is `muse_fx.files.attempt`, the same as a local run, so outputs, names, formats and messages match.

A worker that dies mid-file is restarted by Ray and the file tried again (`RETRIES` more times); the next
attempt sweeps the dead one's temp files (`enhance_file` does), and the output appears whole or not at all.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

from muse_fx.errors import MuseFxError
from muse_fx.files import Outcome, attempt
from muse_fx.io.atomic import DEBRIS, atomic_path
from muse_fx.io.audio_files import check_writable, probe
from muse_fx.scale.cluster import ClusterError, connected

RETRIES = 2  # further attempts at a file whose worker died on it


@dataclass(frozen=True)
class RayBatch:
    """How to run a batch: where, on how many workers of what size, and how files travel."""

    address: str = ""  # see muse_fx.scale.cluster
    workers: int | None = None  # default: as many as the cluster's GPUs (or CPUs) hold
    cpus_per_worker: float = 1.0
    gpus_per_worker: float | None = None  # default: one each where the cluster has GPUs, else none
    ship: bool = False  # send bytes instead of relying on paths every node sees


@dataclass(frozen=True)
class Job:
    source: Path  # as the user gave them: messages name these
    destination: Path
    folder: Path  # the driver's working folder, where relative paths start
    data: bytes | None = None  # the input's bytes, when shipped


def remove_debris(destination: Path) -> None:
    """Delete the temp files and folders that killed attempts at `destination` (or its picture) left beside it.

    Only for attempts known to be dead: unlike `sweep_debris`, this cannot ask whether a process on another
    node still works on them.
    """
    owners = tuple(f".{name}.muse-fx-" for name in (destination.name, destination.name + ".png"))
    if not destination.parent.is_dir():
        return
    for path in destination.parent.iterdir():
        if not (DEBRIS.match(path.name) and path.name.startswith(owners)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


class Worker:
    """One actor: builds the board once, then enhances one file at a time."""

    def __init__(self, make_board: Callable, options: dict, scratch_name: str):
        self.options = options
        self.scratch = Path(tempfile.gettempdir()) / scratch_name
        shutil.rmtree(self.scratch, ignore_errors=True)  # what this worker's killed predecessor left
        try:
            self.board, self.problem = make_board(), None
        except MuseFxError as error:
            self.board, self.problem = None, str(error)

    def ready(self) -> str | None:
        """None once the board is built, else why it could not be."""
        return self.problem

    def enhance(self, job: Job) -> tuple[Outcome, dict[str, bytes]]:
        """The outcome, and when shipped the output files by name."""
        if job.data is not None:
            return self._enhance_copy(job)
        source, destination = job.folder / job.source, job.folder / job.destination
        outcome = attempt(self.board, source, destination, **self.options)
        return _as_given(outcome, job, source, destination), {}

    def _enhance_copy(self, job: Job) -> tuple[Outcome, dict[str, bytes]]:
        shutil.rmtree(self.scratch, ignore_errors=True)
        inbox, outbox = self.scratch / "in", self.scratch / "out"
        inbox.mkdir(parents=True)
        outbox.mkdir()
        source, destination = inbox / job.source.name, outbox / job.destination.name
        try:
            assert job.data is not None  # a job for a copy carries its bytes
            source.write_bytes(job.data)
            outcome = attempt(self.board, source, destination, **{**self.options, "overwrite": True})
            files = {} if outcome.error else {path.name: path.read_bytes() for path in outbox.iterdir()}
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
        return _as_given(outcome, job, source, destination), files


def _as_given(outcome: Outcome, job: Job, source: Path, destination: Path) -> Outcome:
    """`outcome` in the user's own paths: a worker's copies or absolute paths would confuse the messages."""

    def rename(text: str) -> str:
        return text.replace(str(source), str(job.source)).replace(str(destination), str(job.destination))

    warnings = [rename(warning) for warning in outcome.warnings]
    error = outcome.error and rename(outcome.error)
    return replace(outcome, source=job.source, destination=job.destination, warnings=warnings, error=error)


class Pool:
    """Actors that take one job at a time; a job goes only to an actor that has started, so actors still
    waiting for resources (an autoscaler adding GPU nodes) never hold work back."""

    def __init__(self, ray: ModuleType, actors: list):
        self.ray = ray
        self.actors = actors
        self.starting = {actor.ready.remote(): actor for actor in actors}
        self.running: dict = {}  # call → (actor, job)
        self.idle: list = []

    def results(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, object]]:
        """(job, the worker's answer or the Ray error that ended it) as each job finishes."""
        pending = iter(jobs)
        job = next(pending, None)
        while job is not None or self.running:
            while self.idle and job is not None:
                actor = self.idle.pop()
                self.running[actor.enhance.remote(job)] = (actor, job)
                job = next(pending, None)
            [done], _ = self.ray.wait([*self.running, *self.starting], num_returns=1)
            if done in self.starting:
                self.idle.append(self._started(done))
                continue
            actor, finished = self.running.pop(done)
            self.idle.append(actor)
            try:
                yield finished, self.ray.get(done)
            except self.ray.exceptions.RayError as error:
                yield finished, error

    def _started(self, ready) -> object:
        actor = self.starting.pop(ready)
        try:
            problem = self.ray.get(ready)
        except self.ray.exceptions.RayError as error:
            cause = [line for line in str(error).splitlines() if line.strip()][-1]
            raise ClusterError(
                f"a Ray worker could not start: {cause} (every node needs the same muse-fx, torch "
                "and Ray; docs/scale-out.md)"
            ) from None
        if problem:
            raise MuseFxError(problem)
        return actor

    def stop(self) -> list[Job]:
        """Kill every actor and wait until they are gone; returns the jobs that were in flight."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors, in_flight, self.running = [], self.running, {}
        if in_flight:
            self.ray.wait(list(in_flight), num_returns=len(in_flight), timeout=30)
        return [job for _, job in in_flight.values()]


def enhance_on_ray(
    make_board: Callable, pairs: list[tuple[Path, Path]], batch: RayBatch, finish: Callable[[Outcome], None], **options
) -> None:
    """Enhance `pairs` on the cluster, handing each file's outcome to `finish` as it is settled.

    `make_board()` builds the board on each worker; `options` are `enhance_file`'s (fmt, subtype, overwrite…).
    """
    with connected(batch.address) as ray:
        jobs = _checked(pairs, options, finish) if batch.ship else (Job(*pair, Path.cwd()) for pair in pairs)
        pool = Pool(ray, start_workers(ray, make_board, batch, options, len(pairs)))
        try:
            for job, answer in pool.results(jobs):
                finish(_settle(job, answer, batch.ship, options.get("overwrite", False)))
        except KeyboardInterrupt:  # also SIGTERM/SIGHUP (muse_fx.interrupts): stop the workers, clean up after them
            for job in [] if batch.ship else pool.stop():
                remove_debris(job.folder / job.destination)
            raise
        finally:
            pool.stop()


def start_workers(ray: ModuleType, make_board: Callable, batch: RayBatch, options: dict, files: int) -> list:
    """The actors: one GPU each (or `gpus_per_worker`) where the cluster has GPUs, else `cpus_per_worker` CPUs."""
    resources = ray.cluster_resources()
    gpus = batch.gpus_per_worker if batch.gpus_per_worker is not None else float(resources.get("GPU", 0) > 0)
    fits = resources.get("GPU", 0) // gpus if gpus else resources.get("CPU", 1) // batch.cpus_per_worker
    count = max(1, min(batch.workers or int(fits), files))
    remote = ray.remote(Worker).options(
        num_cpus=batch.cpus_per_worker, num_gpus=gpus, max_restarts=-1, max_task_retries=RETRIES
    )
    run = uuid.uuid4().hex[:12]
    return [remote.remote(make_board, options, f"muse-fx-ray-{run}-{index}") for index in range(count)]


def _checked(pairs: list[tuple[Path, Path]], options: dict, finish: Callable[[Outcome], None]) -> Iterator[Job]:
    """Shipped jobs, each input read only when a worker is free for it; an input the driver can already tell is
    bad, or an output it could not write, is reported here and never sent."""
    for source, destination in pairs:
        try:
            probe(source)
            picture = [destination.with_name(destination.name + ".png")] if options.get("plot") else []
            for output in [destination, *picture]:
                check_writable(output, options.get("overwrite", False), inputs={source})
            data = source.read_bytes()
        except MuseFxError as error:
            finish(Outcome(source, destination, error=str(error)))
            continue
        except OSError as error:
            finish(Outcome(source, destination, error=f"{source}: cannot be read ({error}); check its permissions"))
            continue
        yield Job(source, destination, Path.cwd(), data)


def _settle(job: Job, answer, shipped: bool, overwrite: bool) -> Outcome:
    """A worker's answer → the file's outcome; shipped output files are written here, atomically, and without
    `overwrite` never over a file that appeared meanwhile."""
    if not isinstance(answer, tuple):
        if not shipped:
            remove_debris(job.folder / job.destination)
        return Outcome(
            job.source,
            job.destination,
            error=(
                f"{job.source}: the Ray worker enhancing it failed {RETRIES + 1} times ({type(answer).__name__}); "
                "nothing was written — the Ray logs say why, and enhancing this file without --ray shows the error"
            ),
        )
    outcome, files = answer
    try:
        for name, data in files.items():
            with atomic_path(job.destination.with_name(name), replace=overwrite) as temp:
                temp.write_bytes(data)
    except MuseFxError as error:
        return Outcome(job.source, job.destination, error=str(error))
    except OSError as error:
        message = f"{job.destination}: could not be written ({error}); check the folder's permissions and free space"
        return Outcome(job.source, job.destination, error=message)
    return outcome
