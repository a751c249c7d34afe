"""`muse-fx train`: one loop for mel2mel, the musecoder, both in alternation, or both jointly.

Modes: "mel2mel" (LSGAN + L1 on degraded → clean log-mels, optionally + the fast-path loss), "musecoder"
(ε-prediction conditioned on the CLEAN log-mel), "both" (alternating blocks of the two), "joint" (the
musecoder conditioned on mel2mel's output, both updated through the diffusion loss).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import soundfile as sf
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from muse_fx.engine import diffusion
from muse_fx.engine.devices import resolve_device
from muse_fx.engine.fast_path import apply_mel_gain
from muse_fx.engine.mel2mel import Discriminator
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.weights import load_model
from muse_fx.errors import ModelError, TrainingConfigError
from muse_fx.io.atomic import atomic_path
from muse_fx.training.checkpoint import save_checkpoint, training_checkpoint
from muse_fx.training.curves import CurveLog
from muse_fx.training.data import Batches
from muse_fx.training.objectives import (
    UnderWeighting,
    balance_loss,
    diffusion_loss,
    lsgan,
    unrecorded_bands,
    waveform_losses,
)
from muse_fx.training.train_config import TrainConfig

MODES = ("mel2mel", "musecoder", "both", "joint")


def open_run_dir(run_dir: Path) -> None:
    """Make the run folder, or say what is wrong with it before any work is spent on the run."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingConfigError(f"{run_dir} is a file, not a folder: give --run-dir a new folder or a run's folder")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=run_dir).close()  # unnamed where the OS allows: a kill leaves nothing
    except OSError as error:
        raise TrainingConfigError(
            f"run folder {run_dir} cannot be written ({error.strerror}): give --run-dir a folder you can write to"
        ) from None


def _unpacked(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def interruptible():
    """Backward is one C++ call, tens of seconds a step on a CPU, and Python hears Ctrl-C or a stop signal only when
    Python code runs: a saved-tensor hook is Python that runs before each operation's backward, so the signal lands
    within one operation. The step is then abandoned; checkpoints are written only between steps.

    The pack hook detaches: an operation that saves its own output would otherwise hold itself in a cycle."""
    return torch.autograd.graph.saved_tensors_hooks(torch.Tensor.detach, _unpacked)


class Trainer:
    def __init__(self, config: TrainConfig, mode: str, run_dir: Path):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        o = config.optim
        torch.set_num_threads(o.threads)
        torch.manual_seed(o.seed)
        self.config, self.mode, self.run_dir = config, mode, run_dir
        self.device = resolve_device(o.device)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.model = MuseModel(config.model).to(self.device)
        self.discriminator = Discriminator(config.model.mel2mel).to(self.device)

        def adam(params, lr: float = o.lr):
            return torch.optim.Adam(params, lr=lr, betas=o.betas)

        if self.model.musecoder is None and mode != "mel2mel":
            raise ValueError(f"model preset {config.preset!r} has no musecoder: only `train mel2mel` applies")
        self.optimisers = {
            "mel2mel": adam(self.model.mel2mel.parameters()),
            "discriminator": adam(self.discriminator.parameters(), self._lr("discriminator")),
        }
        if self.model.musecoder is not None:
            self.optimisers["musecoder"] = adam(self.model.musecoder.parameters())
            schedule = diffusion.training_schedule(self.model.musecoder.config)
            self.alpha_cum = schedule.alpha_cum.float().to(self.device)
        # GAN checkpoints a hundred steps apart differ by more than most recipe changes: an average is steadier.
        self.ema = (
            AveragedModel(self.model.mel2mel, multi_avg_fn=get_ema_multi_avg_fn(o.ema_decay), use_buffers=True)
            if o.ema_decay
            else None
        )
        self.step = 0
        self.best = float("inf")
        mel = config.model.mel
        self.mel_batches = Batches(config.data, "train", mel.sample_rate, mel.hop_length, o.seed)
        short = type(config.data)(**{**config.data.__dict__, "segment_seconds": o.musecoder_segment_seconds})
        self.wave_batches = Batches(short, "train", mel.sample_rate, mel.hop_length, o.seed + 1)
        open_run_dir(run_dir)
        self.checkpointed: int | None = None  # the step of run_dir/checkpoint.pt, once there is one
        self.validation = self._validation_set(config, o.validation_batches * o.batch_size)
        self.curves = CurveLog(run_dir)

    # -- state ------------------------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "step": self.step,
            "mode": self.mode,
            "best": self.best,
            "model_config": self.config.model.to_dict(),
            "train_config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "optimisers": {k: v.state_dict() for k, v in self.optimisers.items()},
            **({"mel2mel_ema": self.ema.state_dict()} if self.ema is not None else {}),
        }

    @property
    def generator(self) -> torch.nn.Module:
        """mel2mel as validated and exported: its moving average when `ema_decay` is set."""
        return self.ema.module if self.ema is not None else self.model.mel2mel

    def load(self, path: Path, weights_only: bool = False) -> None:
        """Resume from a checkpoint; `weights_only` starts a new run (e.g. a new mode) from its weights.

        A .safetensors model starts mel2mel from its generator: the ResNet is fully convolutional, so a 16 kHz
        model's generator is a fair start for a full-band one (both halves of a split one); a split model's lower
        half starts a single full-band generator (`full_band_single`).
        """
        if path.suffix == ".safetensors":
            self.model.mel2mel.start_from(load_model(path).mel2mel)
            return
        state = training_checkpoint(path)
        if state["model_config"] != self.config.model.to_dict():
            raise ModelError(
                f"{path} was trained with another model config than preset {self.config.preset!r}, so it cannot be "
                "continued with it; export it (`muse-fx train export`) and pass the .safetensors to --init, which "
                "carries the generator over where the shapes allow"
            )
        self.model.load_state_dict(state["model"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.ema is not None and "mel2mel_ema" in state:  # without one, the average starts at the next step
            self.ema.load_state_dict(state["mel2mel_ema"])
        if not weights_only:
            for name, optimiser in self.optimisers.items():
                optimiser.load_state_dict(state["optimisers"][name])
                for group in optimiser.param_groups:  # the config's rate wins: resuming may lower it
                    group["lr"] = self._lr(name)
            self.step, self.best = state["step"], state.get("best", float("inf"))
            self.checkpointed = self.step

    def _lr(self, optimiser: str) -> float:
        o = self.config.optim
        return o.lr * (o.discriminator_lr_scale if optimiser == "discriminator" else 1.0)

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- one optimisation step per model ---------------------------------------------------------------------
    def _mels(self, degraded: torch.Tensor, clean: torch.Tensor):
        with torch.no_grad():
            return self.model.log_mel(degraded).unsqueeze(1), self.model.log_mel(clean).unsqueeze(1)

    def _mel2mel_step(self) -> dict[str, float]:
        o = self.config.optim
        degraded, clean, draws = self.mel_batches.next(o.batch_size)
        degraded, clean = degraded.to(self.device), clean.to(self.device)
        d_mel, c_mel = self._mels(degraded, clean)
        unrecorded = unrecorded_bands(draws, self.model.log_mel).to(self.device)
        with self._autocast():
            fake = torch.where(unrecorded, c_mel, self.model.mel2mel(d_mel))  # no loss where nothing was recorded
            d_loss = 0.5 * (
                lsgan(self.discriminator(d_mel, c_mel), True) + lsgan(self.discriminator(d_mel, fake.detach()), False)
            )
        self._update("discriminator", d_loss)
        with self._autocast():
            gan = lsgan(self.discriminator(d_mel, fake), True)
            l1 = F.l1_loss(fake, c_mel)
            losses = {"g_gan": gan, "g_l1": l1}
            weights = {
                "g_fast": o.lambda_fast,
                "g_mrstft": o.lambda_mrstft,
                "g_under": o.lambda_under,
                "g_darkening": o.lambda_darkening,
                "g_brightening": o.lambda_brightening,
                "g_balance": o.lambda_balance,
            }
            if any(weights.values()):
                fast = apply_mel_gain(degraded, d_mel.squeeze(1), fake.squeeze(1).float(), self.model.log_mel)
                fast_mel = self.model.log_mel(fast)
                losses["g_fast"] = F.l1_loss(fast_mel, c_mel.squeeze(1))
                losses["g_balance"] = balance_loss(fast_mel, c_mel.squeeze(1))
                sample_rate = self.config.model.mel.sample_rate
                under = UnderWeighting(o.under_quiet_weight, o.under_low_weight, o.under_low_hz)
                losses |= {f"g_{name}": v for name, v in waveform_losses(fast, clean, sample_rate, under).items()}
            total = gan + o.lambda_l1 * l1 + sum(weight * losses[name] for name, weight in weights.items() if weight)
        self._update("mel2mel", total)
        return {"d_loss": d_loss.item(), **{k: v.item() for k, v in losses.items()}}

    def _musecoder_step(self, joint: bool) -> dict[str, float]:
        o = self.config.optim
        degraded, clean, _ = self.wave_batches.next(o.batch_size)
        degraded, clean = degraded.to(self.device), clean.to(self.device)
        d_mel, c_mel = self._mels(degraded, clean)
        frames = clean.shape[-1] // self.config.model.mel.hop_length  # frame t covers samples [t·hop, (t+1)·hop)
        with self._autocast():
            mel = self.model.mel2mel(d_mel) if joint else c_mel
            assert self.model.musecoder is not None  # __init__ refuses this mode for a model without one
            loss = diffusion_loss(self.model.musecoder, clean, mel.squeeze(1)[..., :frames], self.alpha_cum)
            total = loss + (o.lambda_mel_joint * F.l1_loss(mel, c_mel) if joint and o.lambda_mel_joint else 0.0)
        self._update("musecoder", total, also=("mel2mel",) if joint else ())
        return {"diffusion": loss.item()}

    def _update(self, name: str, loss: torch.Tensor, also: tuple[str, ...] = ()) -> None:
        names = (name, *also)
        for n in names:
            self.optimisers[n].zero_grad(set_to_none=True)
        loss.backward()
        for n in names:
            params = [p for group in self.optimisers[n].param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.config.optim.grad_clip)
            self.optimisers[n].step()
        if self.ema is not None and "mel2mel" in names:
            self.ema.update_parameters(self.model.mel2mel)

    def train_step(self) -> dict[str, float]:
        self.model.train()
        if self.mode == "both":
            block = max(1, self.config.optim.alternate)
            mode = "mel2mel" if (self.step // block) % 2 == 0 else "musecoder"
        else:
            mode = self.mode
        with interruptible():
            if mode == "mel2mel":
                return self._mel2mel_step()
            return self._musecoder_step(joint=mode == "joint")

    # -- validation -------------------------------------------------------------------------------------------
    def _validation_set(self, config: TrainConfig, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Drawn once per run and kept in the run directory: a resumed run scores the same examples even when the
        corpus grew in between (a render still writing when the run began), so best.pt compares like with like."""
        pinned = self.run_dir / "validation_set.pt"
        if pinned.exists():
            saved = torch.load(pinned)
            return saved["degraded"], saved["clean"]
        mel = config.model.mel
        try:
            batches = Batches(config.data, "validation", mel.sample_rate, mel.hop_length, seed=1234)
        except FileNotFoundError:  # a corpus too small to have a validation work yet: validate on train
            batches = Batches(config.data, "train", mel.sample_rate, mel.hop_length, seed=1234)
        degraded, clean, _ = batches.next(count)
        with atomic_path(pinned) as tmp:
            torch.save({"degraded": degraded, "clean": clean}, tmp)
        return degraded, clean

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mel L1 of the input, of mel2mel's output, of the fast path; the diffusion loss; example audio."""
        self.model.eval()
        self.generator.eval()
        generator_state = torch.get_rng_state()
        torch.manual_seed(0)  # the same diffusion steps and noise at every validation
        totals: dict[str, float] = {}
        b = self.config.optim.batch_size
        degraded_all, clean_all = self.validation
        for i in range(0, len(degraded_all), b):
            degraded, clean = degraded_all[i : i + b].to(self.device), clean_all[i : i + b].to(self.device)
            d_mel, c_mel = self._mels(degraded, clean)
            fake = self.generator(d_mel)
            fast = apply_mel_gain(degraded, d_mel.squeeze(1), fake.squeeze(1), self.model.log_mel)
            frames = clean.shape[-1] // self.config.model.mel.hop_length
            fast_mel = self.model.log_mel(fast)
            values = {
                "mel_l1_input": F.l1_loss(d_mel, c_mel),
                "mel_l1_mel2mel": F.l1_loss(fake, c_mel),
                "mel_l1_fast": F.l1_loss(fast_mel, c_mel.squeeze(1)),
                "balance_fast": balance_loss(fast_mel, c_mel.squeeze(1)),
            }
            sample_rate = self.config.model.mel.sample_rate
            values |= {f"{name}_fast": v for name, v in waveform_losses(fast, clean, sample_rate).items()}
            if self.model.musecoder is not None:
                c = c_mel.squeeze(1)[..., :frames]
                values["diffusion"] = diffusion_loss(self.model.musecoder, clean, c, self.alpha_cum)
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + float(v) * len(degraded) / len(degraded_all)
        torch.set_rng_state(generator_state)
        self._write_examples(degraded_all[:1].to(self.device), clean_all[:1])
        return totals

    def _write_examples(self, degraded: torch.Tensor, clean: torch.Tensor) -> None:
        folder = self.run_dir / "validation"
        folder.mkdir(exist_ok=True)
        sr = self.config.model.mel.sample_rate
        d_mel = self.model.log_mel(degraded)
        fake = self.generator(d_mel.unsqueeze(1)).squeeze(1)
        outputs = {
            "degraded": degraded,
            "clean": clean,
            "fast": apply_mel_gain(degraded, d_mel, fake, self.model.log_mel),
        }
        musecoder = self.model.musecoder
        if self.mode != "mel2mel" and musecoder is not None:
            schedule = diffusion.schedule_for(musecoder.config, len(musecoder.config.fast_schedule))
            outputs["diffusion"] = diffusion.sample(musecoder, fake, schedule, [torch.Generator().manual_seed(0)])
        for name, audio in outputs.items():
            sf.write(folder / f"{name}.wav", audio[0, : degraded.shape[-1]].float().cpu().numpy(), sr)

    # -- the loop ---------------------------------------------------------------------------------------------
    def run(self, log: Callable[[str], None] = print) -> None:
        o = self.config.optim
        started = time.monotonic()
        window: dict[str, list[float]] = {}
        self.curves.drop_after(self.step)  # a killed run logged steps past its last checkpoint: they run again
        while self.step < o.steps:
            for k, v in self.train_step().items():
                window.setdefault(k, []).append(v)
            self.step += 1
            if o.reload_every and self.step % o.reload_every == 0:  # pick up clips rendered since the start
                self.mel_batches.clips.reload()
                self.wave_batches.clips.reload()
            if self.step % o.log_every == 0:
                means = {k: sum(v) / len(v) for k, v in window.items()}
                self.curves.log(self.step, "train", means)
                log(
                    f"step {self.step} ({time.monotonic() - started:.0f} s) "
                    + " ".join(f"{k}={v:.4f}" for k, v in means.items())
                )
                window = {}
            if self.step % o.validate_every == 0 or self.step == o.steps:
                self._validate_and_save(log)
            elif self.step % o.checkpoint_every == 0:
                self._save_latest()
            if o.keep_every and self.step % o.keep_every == 0:
                save_checkpoint(self.run_dir / f"checkpoint-{self.step}.pt", self.state())
        if not (self.run_dir / "checkpoint.pt").exists():  # `--steps 0`: the starting point, scored and saved to export
            self._validate_and_save(log)

    def _save_latest(self) -> None:
        save_checkpoint(self.run_dir / "checkpoint.pt", self.state())
        self.checkpointed = self.step

    def _validate_and_save(self, log: Callable[[str], None]) -> None:
        values = self.validate()
        self.curves.log(self.step, "validation", values)
        self.curves.plot()
        log(f"validation @ {self.step}: " + " ".join(f"{k}={v:.4f}" for k, v in values.items()))
        self._save_latest()
        score = values["mel_l1_fast"] if self.mode in ("mel2mel", "both") else values["diffusion"]
        if score < self.best:
            self.best = score
            save_checkpoint(self.run_dir / "best.pt", self.state())
