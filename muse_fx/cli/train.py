"""`muse-fx train …`: train mel2mel, the musecoder, both, or both jointly from a TOML config; export weights."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import NoReturn

import click

from muse_fx.errors import ModelError
from muse_fx.interrupts import Stopped, exit_status, stop_signals_interrupt


@click.group()
def train() -> None:
    """Train models (needs the `train` extra) and export them as bundled weights."""


def _run(mode: str, config: str, data: Path | None, run_dir: Path, init: Path | None, overrides: dict) -> None:
    from muse_fx.training.train_config import check_data, load_config
    from muse_fx.training.trainer import Trainer

    overrides = {k: v for k, v in overrides.items() if v is not None}
    train_config = load_config(config, overrides, data)
    check_data(train_config)
    fresh = not run_dir.exists()
    trainer = Trainer(train_config, mode, run_dir)
    latest = run_dir / "checkpoint.pt"
    if latest.exists():
        trainer.load(latest)
        click.echo(f"resumed from {latest} at step {trainer.step}")
    elif init:
        try:
            trainer.load(init, weights_only=True)
        except ModelError as error:
            if fresh:  # the run never started: leave no folder behind to be taken for one
                shutil.rmtree(run_dir)
            raise ModelError(f"--init {init}: {error} (the config's preset is {train_config.preset!r})") from None
        click.echo(f"initialised from {init}")
    with stop_signals_interrupt():  # SIGTERM/SIGHUP stop the run as Ctrl-C does
        try:
            trainer.run(log=lambda line: click.echo(line))
        except KeyboardInterrupt as interrupt:
            _stopped(run_dir, trainer.checkpointed, interrupt)
    click.echo(f"done: {run_dir / 'checkpoint.pt'} (step {trainer.step}); curves in {run_dir / 'losses.png'}")


def _stopped(run_dir: Path, checkpointed: int | None, interrupt: KeyboardInterrupt) -> NoReturn:
    reason = f"stopped by {interrupt}" if isinstance(interrupt, Stopped) else "interrupted"
    if checkpointed is None:
        where = "no checkpoint was written yet; rerun the same command to start again"
    else:
        where = (
            f"the last checkpoint is {run_dir / 'checkpoint.pt'} (step {checkpointed}); "
            "rerun the same command to resume from it"
        )
    click.echo(f"\n{reason}: the step in progress was abandoned; {where}", err=True)
    sys.exit(exit_status(interrupt))


def _mode_command(mode: str, help_text: str) -> None:
    @train.command(name=mode, help=help_text)
    @click.option(
        "--config",
        "config",
        default="cpu_small",
        show_default=True,
        help="TOML file, or the name of one in muse_fx/training/configs/.",
    )
    @click.option(
        "--data",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        envvar="MUSE_FX_DATA",
        help="Folder the config's relative data paths live in (made by `muse-fx data …`) [env: MUSE_FX_DATA].",
    )
    @click.option(
        "--run-dir",
        type=click.Path(path_type=Path),
        required=True,
        help="Checkpoints, losses.csv/png and validation audio go here; an existing run resumes.",
    )
    @click.option(
        "--init",
        type=click.Path(exists=True, path_type=Path),
        help="Start a new run from this checkpoint's weights (e.g. the musecoder after mel2mel).",
    )
    @click.option("--steps", type=int, help="Override [train] steps.")
    @click.option("--lr", type=float, help="Override [train] lr (also when resuming, e.g. to decay it).")
    @click.option("--device", help="Override [train] device (auto, cpu, cuda, mps).")
    def command(
        config: str,
        data: Path | None,
        run_dir: Path,
        init: Path | None,
        steps: int | None,
        lr: float | None,
        device: str | None,
    ) -> None:
        _run(mode, config, data, run_dir, init, {"steps": steps, "lr": lr, "device": device})


_mode_command("mel2mel", "Train mel2mel: LSGAN + λ·L1 from degraded to clean log-mel (+ the fast-path loss).")
_mode_command("musecoder", "Train the musecoder: DiffWave's ε-prediction loss, conditioned on the clean log-mel.")
_mode_command("both", "Alternate blocks of mel2mel and musecoder steps in one process ([train] alternate).")
_mode_command("joint", "Fine-tune both through the diffusion loss, the musecoder conditioned on mel2mel's output.")


@train.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("checkpoints", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def average(out: Path, checkpoints: tuple[Path, ...]) -> None:
    """Average the weights of CHECKPOINTS (one run, late steps) into OUT, e.g. before `train export`."""
    from muse_fx.training.checkpoint import average_checkpoints, save_checkpoint

    save_checkpoint(out, average_checkpoints(list(checkpoints)))
    click.echo(f"averaged {len(checkpoints)} checkpoints → {out}")


@train.command()
@click.argument("checkpoint", type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True, help="Registry name, e.g. cpu-small.")
@click.option("--version", required=True, help="Version string, e.g. 1.0.")
@click.option("--fp16", is_flag=True, help="Store weights as float16 (half the size).")
@click.option("--out-dir", type=click.Path(path_type=Path), help="Where to write (default: muse_fx/bundled_models/).")
@click.option("--recipe", default="", help="How it was trained (default: the config and steps).")
@click.option("--hardware", default="", help="What it was trained on.")
@click.option("--card", default="", help="Model card file name, next to the weights.")
@click.option(
    "--musecoder",
    "musecoder_from",
    type=click.Path(exists=True, path_type=Path),
    help="Take the musecoder from this checkpoint (a `train musecoder` run of the same config).",
)
@click.option(
    "--high-band",
    "high_band_from",
    type=click.Path(exists=True, path_type=Path),
    help="Take a split generator's high half (the bands above the split) from this checkpoint of the same preset.",
)
@click.option("--default/--no-default", "make_default", default=False, help="Make it the registry default.")
@click.option("--registry/--no-registry", "write_registry", default=True, help="Append the entry to registry.toml.")
def export(
    checkpoint: Path,
    name: str,
    version: str,
    fp16: bool,
    out_dir: Path | None,
    recipe: str,
    hardware: str,
    card: str,
    musecoder_from: Path | None,
    high_band_from: Path | None,
    make_default: bool,
    write_registry: bool,
) -> None:
    """Write CHECKPOINT's log-mel + mel2mel + musecoder as safetensors and print its registry entry."""
    from muse_fx.engine.registry import MODELS_DIR
    from muse_fx.training.export import add_to_registry, entry_toml, export_checkpoint

    folder = out_dir or MODELS_DIR
    entry = export_checkpoint(
        checkpoint, folder, name, version, fp16, recipe, hardware, card, musecoder_from, high_band_from
    )
    click.echo(entry_toml(entry))
    if write_registry:
        written = add_to_registry(folder / "registry.toml", entry, make_default)
        click.echo(f"registered {name} {version} in {folder / 'registry.toml'}")
        if "default_musecoder" in written:
            click.echo(
                f"kept the previous {name} entry's default_musecoder {written['default_musecoder']}; "
                "edit registry.toml if these weights measure differently"
            )
