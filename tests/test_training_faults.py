"""A training run under faults: an unwritable run folder, a resume after a kill, Ctrl-C and stop signals."""

import csv
import os
import signal
import threading
from collections import Counter

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from muse_fx.cli import main
from muse_fx.training.train_config import load_config
from muse_fx.training.trainer import Trainer


def _train(run_dir, *extra):
    return CliRunner().invoke(main, ["train", "mel2mel", "--config", "tiny", "--run-dir", str(run_dir), *extra])


def test_a_run_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "run").write_text("notes")
    result = _train(tmp_path / "run", "--steps", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{tmp_path / 'run'} is a file" in result.output and "--run-dir" in result.output
    assert (tmp_path / "run").read_text() == "notes"


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="uses a read-only Linux pseudo-filesystem")
def test_a_read_only_run_folder_is_named(tmp_path):
    if os.geteuid() == 0:  # root writes through permission bits: take a folder the kernel refuses to anyone
        folder = "/sys/kernel"
    else:
        folder = tmp_path / "run"
        folder.mkdir()
        folder.chmod(0o555)
    result = _train(folder, "--steps", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"run folder {folder} cannot be written" in result.output and "--run-dir" in result.output


def _rows(run_dir) -> list[tuple[str, str, str]]:
    with open(run_dir / "losses.csv", newline="") as f:
        return [(row["step"], row["split"], row["name"]) for row in csv.DictReader(f)]


def test_a_resume_logs_each_step_once(tmp_path):
    """A kill after step 4 with the last checkpoint at step 2: steps 3 and 4 are trained again, and logged once."""
    Trainer(load_config("tiny", {"validate_every": 100}, None), "mel2mel", tmp_path).run(log=lambda line: None)
    with open(tmp_path / "losses.csv", "a") as f:
        f.write("5,train,g_l1")  # the kill cut this row short
    resumed = Trainer(load_config("tiny", {"steps": 6, "validate_every": 100}, None), "mel2mel", tmp_path)
    resumed.load(tmp_path / "checkpoint-2.pt")
    resumed.run(log=lambda line: None)
    rows = _rows(tmp_path)
    repeated = [row for row, count in Counter(rows).items() if count > 1]
    assert not repeated, repeated
    assert {int(step) for step, split, _ in rows if split == "train"} == set(range(1, 7))


@pytest.mark.parametrize(
    ("stop", "status", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")]
)
def test_a_stopped_run_says_where_its_last_checkpoint_is(tmp_path, monkeypatch, stop, status, said):
    run = tmp_path / "run"
    train_step = Trainer.train_step

    def stopped_at_step_3(self):
        if self.step == 2:
            os.kill(os.getpid(), stop)
        return train_step(self)

    monkeypatch.setattr(Trainer, "train_step", stopped_at_step_3)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # without the fix: "Aborted!", not a kill
    try:
        result = _train(run, "--steps", "100")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == status, result.output
    assert said in result.output and f"last checkpoint is {run / 'checkpoint.pt'} (step 2)" in result.output
    assert "rerun the same command to resume" in result.output
    assert torch.load(run / "checkpoint.pt", weights_only=False)["step"] == 2
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]  # no half-written checkpoint


class _SlowTail(nn.Module):
    """Adds zero times a chain of large matrix products to the generator's output: each product's backward is one
    C++ call of a tenth of a second or more. The first backward op to run sends SIGINT from another thread a moment
    later, as a user's Ctrl-C lands while the C++ code runs."""

    def __init__(self, generator: nn.Module, links: int = 4, width: int = 1024):
        super().__init__()
        self.generator = generator
        self.links = nn.ParameterList(nn.Parameter(torch.randn(width, width) / width**0.5) for _ in range(links))
        self.width = width

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = torch.ones(self.width, self.width)
        for link in self.links:
            x = x @ link
        return self.generator(mel) + 0 * _InterruptOnBackward.apply(x).mean()


class _InterruptOnBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        threading.Timer(0.02, os.kill, (os.getpid(), signal.SIGINT)).start()  # once this has returned to C++
        return grad


def test_ctrl_c_lands_mid_backward_not_after_it(tmp_path):
    """Backward is one C++ call: a CPU step of the full-band model ignored Ctrl-C for 25–36 s on this machine."""
    trainer = Trainer(load_config("tiny", {}, None), "mel2mel", tmp_path)
    tail = _SlowTail(trainer.model.mel2mel)
    trainer.model.mel2mel = tail
    trainer.optimisers["mel2mel"] = torch.optim.Adam(tail.parameters())
    with pytest.raises(KeyboardInterrupt):
        trainer.train_step()
    reached = [link.grad is not None for link in tail.links]
    assert not all(reached), "the whole backward ran before Ctrl-C was heard"
