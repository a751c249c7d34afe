"""`muse-fx data …`: build the training data — clean renders, the room-impulse-response and babble banks — and
held-out evaluation pairs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click


@click.group()
def data() -> None:
    """Build training data (needs the `train` extra)."""


@data.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for FLAC files + manifest.csv.")
@click.option("--hours", type=float, default=2.0, show_default=True, help="Stop once this much audio exists.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sample-rate", type=int, default=44100, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True, help="FluidSynth renders run side by side.")
@click.option(
    "--soundfont",
    "soundfonts",
    type=click.Path(exists=True, path_type=Path),
    multiple=True,
    help="Soundfont(s) to use instead of the licence-checked Debian set (training/soundfonts.py).",
)
def render(out: Path, hours: float, seed: int, sample_rate: int, workers: int, soundfonts: tuple[Path, ...]) -> None:
    """Render music21 works as solos, duets, ensembles, keyboard parts and tunes over drums (dry, mono FLAC);
    resumable."""
    from tqdm import tqdm

    from muse_fx.training.render import render_corpus
    from muse_fx.training.soundfonts import SOUNDFONTS, Soundfont

    fonts = tuple(Soundfont(p, "", "given on the command line", 1.0) for p in soundfonts) or SOUNDFONTS
    with tqdm(total=round(hours * 3600), unit="s audio", desc="render") as bar:
        clips = render_corpus(out, hours, seed, sample_rate, fonts, workers, lambda seconds: bar.update(round(seconds)))
    hours_done = sum(c.duration for c in clips) / 3600
    click.echo(f"{len(clips)} clips, {hours_done:.2f} h in {out / 'manifest.csv'}")


def _real_folders(help_text: str) -> Callable[[Callable], Callable]:
    return click.option(
        "--real",
        "roots",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        multiple=True,
        required=True,
        help=help_text,
    )


INSTRUMENT_CLONES = _real_folders(
    "A local clone of an instrument library (training/README.md, 'Real instruments'); repeat for each."
)


@data.command()
@INSTRUMENT_CLONES
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for FLAC files + manifest.csv.")
@click.option("--hours", type=float, default=2.0, show_default=True, help="Stop once this much audio exists.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True, help="Clips written side by side.")
def real(roots: tuple[Path, ...], out: Path, hours: float, seed: int, workers: int) -> None:
    """Play corpus works on real instrument recordings (a sampler), plus the libraries' phrases, percussion and
    guitar strums, as 44.1 kHz mono FLAC + manifest.csv in the format `data render` writes; resumable."""
    from tqdm import tqdm

    from muse_fx.training.real.render import render_real

    try:
        with tqdm(total=round(hours * 3600), unit="s audio", desc="real") as bar:
            clips = render_real(list(roots), out, hours, seed, workers, lambda seconds: bar.update(round(seconds)))
    except ValueError as error:  # a folder of no known layout
        raise click.ClickException(str(error)) from None
    for split in ("train", "validation"):
        hours_done = sum(c.duration for c in clips if c.split == split) / 3600
        click.echo(f"{split}: {sum(c.split == split for c in clips)} clips, {hours_done:.2f} h")
    click.echo(f"→ {out / 'manifest.csv'}")


NOISE_SOURCES = _real_folders(
    "A noise source: a Tonejs/audio clone, /usr/share/games/0ad/mods/public (Debian 0ad-data) or "
    "/usr/share/sonic-pi/samples (Debian sonic-pi-samples); repeat for each."
)


@data.command()
@NOISE_SOURCES
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Bank file to write (.pt).")
@click.option("--sample-rate", type=int, default=44100, show_default=True)
def noises(roots: tuple[Path, ...], out: Path, sample_rate: int) -> None:
    """Collect real noise recordings (rain, wind, waves, crowds, fans, subway, vinyl hiss) into a bank the Degrader
    draws from with `p_real_noise`; held-out ones are kept for the development set."""
    from muse_fx.training.real.noises import build_noise_bank, scan_noises

    try:
        count = len(scan_noises(list(roots)))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    bank = _write_bank(
        out,
        lambda _c, rate, _s, progress: build_noise_bank(list(roots), rate, progress),
        count,
        sample_rate,
        0,
        desc="noises",
        unit="file",
    )
    for split in ("train", "validation"):
        kept = [n for n, s in zip(bank["noises"], bank["split"]) if s == split]
        click.echo(f"{split}: {len(kept)} recordings, {sum(len(n) for n in kept) / sample_rate / 60:.1f} min")
    click.echo(f"→ {out}")


@data.command()
@INSTRUMENT_CLONES
@click.option(
    "--rirs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Bank from `data rirs --sample-rate 44100`: its validation and test rooms are used.",
)
@click.option(
    "--noises",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Bank from `data noises`: its held-out recordings are used.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the set.")
@click.option("--seed", type=int, default=0, show_default=True)
def devset(roots: tuple[Path, ...], rirs: Path, noises: Path, out: Path, seed: int) -> None:
    """Write the real development set (held-out instruments, noises and rooms) and its no-harm set (OUT/no-harm:
    clean takes given as their own input), in the folder format `muse-fx eval` reads."""
    from tqdm import tqdm

    from muse_fx.training.real.devset import DEGRADED_CLIPS, NO_HARM_CLIPS, write_devset

    total = sum(DEGRADED_CLIPS.values()) + sum(NO_HARM_CLIPS.values())
    try:
        with tqdm(total=total, unit="clip", desc="devset") as bar:
            counts = write_devset(list(roots), rirs, noises, out, seed, bar.update)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{counts['degraded']} degraded pairs → {out}; {counts['no-harm']} no-harm pairs → {out / 'no-harm'}\n"
        f"score them with: muse-fx eval {out} and muse-fx eval {out / 'no-harm'}"
    )


def _write_bank(
    out: Path, build: Callable[..., dict], count: int, sample_rate: int, seed: int, desc: str, unit: str
) -> dict:
    """`build(count, sample_rate, seed, progress=…)` under a progress bar, then saved atomically (no half file)."""
    import torch
    from tqdm import tqdm

    from muse_fx.io.atomic import atomic_path

    with tqdm(total=count, unit=unit, desc=desc) as bar:
        bank = build(count, sample_rate, seed, progress=lambda: bar.update())
    with atomic_path(out) as tmp:
        torch.save(bank, tmp)
    return bank


CLEAN_FOLDER = click.option(
    "--clean",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Folder from `muse-fx data render` (with manifest.csv).",
)


def _bank_command(default_count: int) -> Callable[[Callable], click.Command]:
    """A `data` command that builds a bank: the options every bank takes."""

    def decorate(function: Callable) -> click.Command:
        options = (
            click.option("--out", type=click.Path(path_type=Path), required=True, help="Bank file to write (.pt)."),
            click.option("--count", type=int, default=default_count, show_default=True),
            click.option(
                "--sample-rate", type=int, default=16000, show_default=True, help="44100 for the full-band model."
            ),
            click.option("--seed", type=int, default=0, show_default=True),
        )
        for option in reversed(options):
            function = option(function)
        return data.command()(function)

    return decorate


@_bank_command(default_count=200)
def rirs(out: Path, count: int, sample_rate: int, seed: int) -> None:
    """Simulate a bank of room impulse responses (pyroomacoustics), each tagged with its measured RT60."""
    from muse_fx.training.degrade.rooms import build_bank

    bank = _write_bank(out, build_bank, count, sample_rate, seed, desc="rooms", unit="rir")
    rt60 = sorted(bank["rt60"])
    splits = {s: bank["split"].count(s) for s in sorted(set(bank["split"]))}
    click.echo(f"{count} RIRs → {out}; measured RT60 {rt60[0]:.2f}–{rt60[-1]:.2f} s; splits {splits}")


@_bank_command(default_count=60)
def babble(out: Path, count: int, sample_rate: int, seed: int) -> None:
    """Speak a bank of pseudo-word utterances with espeak-ng, mixed into babble noise at training time."""
    from muse_fx.training.degrade.babble import build_bank

    bank = _write_bank(out, build_bank, count, sample_rate, seed, desc="babble", unit="utterance")
    seconds = sum(len(u) for u in bank["utterances"]) / sample_rate
    click.echo(f"{count} utterances ({seconds:.0f} s) → {out}")


@data.command()
@CLEAN_FOLDER
@click.option("--rirs", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Bank from `data rirs`.")
@click.option("--babble", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Bank from `data babble`.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the pairs.")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test", show_default=True)
@click.option("--count", type=int, default=30, show_default=True)
@click.option("--seconds", type=float, default=3.0, show_default=True, help="Length of each pair.")
@click.option(
    "--sample-rate",
    type=int,
    default=16000,
    show_default=True,
    help="Rate of the pairs (44100 for full-band evaluation); the banks must be built at it.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def pairs(
    clean: Path,
    rirs: Path | None,
    babble: Path | None,
    out: Path,
    split: str,
    count: int,
    seconds: float,
    sample_rate: int,
    seed: int,
) -> None:
    """Write degraded/clean pairs of a held-out split (works and rooms never seen in training) for `muse-fx eval`."""
    from tqdm import tqdm

    from muse_fx.training.data import DataConfig
    from muse_fx.training.pairs import write_pairs

    config = DataConfig(clean=str(clean), rirs=str(rirs or ""), babble=str(babble or ""), segment_seconds=seconds)
    try:
        with tqdm(total=count, unit="pair", desc=f"{split} pairs") as bar:
            write_pairs(out, config, split, count, seed, sample_rate, progress=bar.update)
    except FileNotFoundError as error:
        raise click.ClickException(f"{error}; render more hours so that the {split} split has works") from None
    except ValueError as error:  # a bank built at another rate
        raise click.ClickException(str(error)) from None
    click.echo(f"{count} {split} pairs → {out}; score them with: muse-fx eval {out}")


@data.command()
@CLEAN_FOLDER
@click.option(
    "--reference",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Real clean recordings (any *.wav/*.flac; for paper-val its *_clean.wav are used).",
)
@click.option("--limit", type=int, default=300, show_default=True, help="Renders to read, from the manifest's start.")
def tone(clean: Path, reference: Path, limit: int) -> None:
    """Compare the renders' long-term spectrum with real recordings: each band's share of the energy, in dB."""
    import numpy as np

    from muse_fx.training.render import read_manifest
    from muse_fx.training.tone import file_shares, table

    clips = read_manifest(clean / "manifest.csv")[:limit]
    real = sorted(reference.glob("*_clean.wav")) or sorted([*reference.glob("*.wav"), *reference.glob("*.flac")])
    if not real or not clips:
        raise click.ClickException(
            f"nothing to compare: {len(clips)} renders in {clean}, {len(real)} files in {reference}"
        )
    renders = file_shares([clean / c.file for c in clips])  # each render read once, then grouped
    groups = {"reference": file_shares(real), "renders": renders}
    for kind in sorted({c.arrangement for c in clips}):
        groups[f"renders: {kind}"] = renders[[c.arrangement == kind for c in clips]]
    click.echo(table(groups))
    deficit = float(np.mean(groups["reference"][:, -1]) - np.mean(groups["renders"][:, -1]))
    click.echo(
        f"renders are {abs(deficit):.1f} dB {'darker' if deficit > 0 else 'brighter'} than the reference in 2–8 kHz"
    )
