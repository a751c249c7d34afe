"""Cross-request batching: shared passes give each request exactly what it would get alone; deadlines, cancels."""

import threading
import time

import pytest
import torch
from test_server_support import CPU, noise

from muse_fx.engine.pipeline import Enhancer
from muse_fx.server.admission import Admission, Busy
from muse_fx.server.batcher import Batcher
from muse_fx.server.enhance import Cancelled, enhance_audio
from muse_fx.server.model_pool import load_models
from muse_fx.settings import Settings


@pytest.fixture(scope="module")
def models(tiny_model_path):
    return load_models([str(tiny_model_path)], CPU)


def alone(models, audio, rate, settings):
    return Enhancer(models["tiny"].model, settings)(torch.from_numpy(audio), rate)


def run_together(batcher, jobs):
    """Queue every request's first chunk batch before the batcher starts, so they must share passes."""
    results = [None] * len(jobs)

    def run(i, audio, rate, settings):
        results[i] = enhance_audio(
            torch.from_numpy(audio), rate, "tiny", settings, batcher, time.monotonic() + 60, threading.Event()
        )

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    while batcher.queued < len(jobs):
        time.sleep(0.005)
    batcher.start()
    for thread in threads:
        thread.join()
    batcher.stop()
    return results


@pytest.mark.parametrize("musecoder, seconds", [("fast", 3.5), ("diffusion", 0.1)])
def test_a_request_gets_the_same_answer_alone_and_batched(models, musecoder, seconds):
    settings = Settings(musecoder=musecoder, batch_size=2, seed=5)
    jobs = [
        (noise(2, seconds, 16000, seed=0), 16000, settings),
        (noise(1, seconds * 0.6, 16000, seed=1), 16000, settings),
        (noise(2, seconds, 16000, seed=2), 16000, settings),
    ]
    batcher = Batcher(models, max_batch=8)
    results = run_together(batcher, jobs)
    assert batcher.stats.most_jobs >= 2
    for result, (audio, rate, settings) in zip(results, jobs, strict=True):
        torch.testing.assert_close(result, alone(models, audio, rate, settings), atol=1e-5, rtol=0)


def test_requests_that_differ_never_share_a_pass(models):
    jobs = [
        (noise(1, 1.0, 16000), 16000, Settings(mix=0.5, batch_size=2)),
        (noise(1, 1.0, 16000), 16000, Settings(mix=1.0, batch_size=2)),
        (noise(1, 1.0, 22050), 22050, Settings(mix=1.0, batch_size=2)),
    ]
    batcher = Batcher(models, max_batch=8)
    results = run_together(batcher, jobs)
    assert batcher.stats.most_jobs == 1
    for result, (audio, rate, settings) in zip(results, jobs, strict=True):
        torch.testing.assert_close(result, alone(models, audio, rate, settings), atol=1e-5, rtol=0)


def test_a_pass_never_exceeds_max_batch(models):
    settings = Settings(batch_size=2)
    batcher = Batcher(models, max_batch=3)
    run_together(batcher, [(noise(1, 6.0, 16000, seed=i), 16000, settings) for i in range(3)])
    assert batcher.stats.most_chunks <= 3 and batcher.stats.chunks == 3 * 3  # 3 chunks each, sent as 2 + 1


def test_past_the_deadline_the_request_fails_and_its_chunks_are_skipped(models):
    batcher = Batcher(models, max_batch=8)  # never started: nothing gets processed
    with pytest.raises(TimeoutError):
        enhance_audio(
            torch.zeros(1, 16000), 16000, "tiny", Settings(), batcher, time.monotonic() + 0.05, threading.Event()
        )
    assert batcher._pending[0].future.cancelled()
    batcher.start()
    batcher.stop()
    assert batcher.stats.passes == 0


def test_a_cancelled_request_submits_nothing_more(models):
    batcher = Batcher(models, max_batch=8)
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(Cancelled):
        enhance_audio(torch.zeros(1, 16000), 16000, "tiny", Settings(), batcher, time.monotonic() + 5, cancelled)
    assert batcher.queued == 0


def test_stopping_fails_what_is_still_queued(models):
    batcher = Batcher(models, max_batch=8)
    future = batcher.submit(None, torch.zeros(1, 10), [0])
    batcher.stop()
    with pytest.raises(RuntimeError, match="shutting down"):
        future.result()


def test_admission_turns_away_the_request_over_the_limit():
    admission = Admission(2)
    with admission.slot(), admission.slot():
        with pytest.raises(Busy):
            with admission.slot():
                pass
        assert admission.active == 2
    with admission.slot():
        assert admission.active == 1
    assert admission.active == 0
