"""`muse-fx eval FOLDER`: score muse_fx, baselines and any precomputed outputs against clean references."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import click
from tqdm import tqdm

from muse_fx.engine.devices import DEVICES
from muse_fx.errors import MuseFxError
from muse_fx.evaluation import METRICS, find_clips, run
from muse_fx.evaluation.criteria import CRITERIA
from muse_fx.evaluation.runner import Setup
from muse_fx.evaluation.systems import (
    BUILTIN,
    DEFAULT,
    VARIANT_SYNTAX,
    build_system,
    internal_boundaries,
    models_of,
    noisereduce_available,
    ours,
)
from muse_fx.evaluation.visqol_score import visqol_available

OPTIONAL = {"visqol": visqol_available, "noisereduce": noisereduce_available}  # name → why it cannot run, or None


def _names(value: str | None) -> list[str]:
    """Comma-separated names, each once, in order."""
    return list(dict.fromkeys(n.strip() for n in (value or "").split(",") if n.strip()))


def _pick(requested: list[str], known: list[str], kind: str) -> list[str]:
    """`requested` minus optional ones whose package is missing (with a warning); unknown names are an error."""
    unknown = [n for n in requested if n not in known]
    if unknown:
        raise click.UsageError(f"unknown {kind}(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    reasons = {n: OPTIONAL[n]() for n in requested if n in OPTIONAL}
    for name, reason in reasons.items():
        if reason:
            click.echo(f"warning: skipping {name}: {reason}", err=True)
    return [n for n in requested if not reasons.get(n)]


def _judged(
    criteria: str | None, candidate: str | None, references: str | None, names: list[str]
) -> tuple[str, tuple[str, ...]]:
    """(candidate, references) for --criteria, each checked to be among the evaluated systems."""
    if not criteria:
        return "", ()
    judged = candidate or next(filter(ours, names), None)
    if judged is None:
        raise click.UsageError("--criteria needs a --candidate system (none of muse_fx's own is in --systems)")
    missing = [n for n in [judged, *_names(references)] if n not in names]
    if missing:
        raise click.UsageError(f"--criteria judges {', '.join(missing)}, which --systems does not evaluate")
    return judged, tuple(_names(references))


@click.command("eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", default="default", show_default=True, help="Bundled model name or a .safetensors path.")
@click.option(
    "--systems",
    help=f"Comma-separated, from {', '.join(BUILTIN)} and the <id>_<system>.wav outputs in "
    f"FOLDER ('paper' = the paper's mel2mel_diffwave); {VARIANT_SYNTAX}. Default: {','.join(DEFAULT)} + all in "
    "FOLDER.",
)
@click.option("--metrics", default=",".join(METRICS), show_default=True, help="Comma-separated metric names.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="muse-fx-eval",
    show_default=True,
    help="Folder for clips.csv, summary.md, tonal_balance.csv/.png and spectrograms/.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N clips (sorted by id).")
@click.option(
    "--only",
    "patterns",
    multiple=True,
    help="Only clips whose id matches this glob (repeatable), e.g. '*-ensemble' '*-duet' for polyphony.",
)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True, help="Where muse_fx runs.")
@click.option(
    "--boundary",
    "boundaries",
    type=click.FloatRange(min=0, min_open=True),
    multiple=True,
    metavar="HZ",
    help="A frequency where a system's internal bands meet (repeatable): a tonal balance band edge, the step across "
    "it reported. muse_fx's systems add their model's own (full-band 1.0: 7.92 kHz).",
)
@click.option("--no-harm", is_flag=True, help="Give every system the clean as its input: what it does to clean music.")
@click.option(
    "--criteria",
    type=click.Choice(list(CRITERIA)),
    help="Check a rule set of issue 26's done criteria for --candidate against the input and --references.",
)
@click.option("--candidate", help="The system --criteria judges. Default: the first of muse_fx's in --systems.")
@click.option(
    "--references", help="Comma-separated systems the candidate's full-band MR-STFT must beat by 10 % (realmusic)."
)
def evaluate(
    folder: Path,
    model: str,
    systems: str | None,
    metrics: str,
    out: Path,
    limit: int | None,
    patterns: tuple[str, ...],
    device: str,
    boundaries: tuple[float, ...],
    no_harm: bool,
    criteria: str | None,
    candidate: str | None,
    references: str | None,
) -> None:
    """Evaluate on FOLDER's <id>_aug.wav (degraded) / <id>_clean.wav (reference) pairs.

    Each pair is trimmed to a common length and scaled to unit L2 norm before scoring, as in the paper; the level
    changes and the tonal balance (each output's long-term spectrum minus the clean's) keep the levels as they are.
    """
    clips = [c for c in find_clips(folder) if not patterns or any(fnmatch(c.id, p) for p in patterns)][:limit]
    if not clips:
        matching = f" matching {' or '.join(patterns)}" if patterns else ""
        raise click.UsageError(f"{folder} holds no <id>_aug.wav / <id>_clean.wav pairs{matching}")
    found = sorted({name for clip in clips for name in clip.systems})
    chosen = [METRICS[m] for m in _pick(_names(metrics) or list(METRICS), list(METRICS), "metric")]
    requested = _names(systems) or [*DEFAULT, *([] if no_harm else found)]
    if no_harm and (precomputed := [n for n in requested if n in found]):
        raise click.UsageError(
            f"--no-harm gives each system the clean, but {', '.join(precomputed)} are outputs made from the degraded "
            "input; leave them out of --systems"
        )
    names = _pick(requested, [*BUILTIN, *found, *filter(ours, requested)], "system")
    try:
        runnable = {n: None if n in found else build_system(n, model, device) for n in names}
        inner = [hz for m in models_of(names, model) for hz in internal_boundaries(m)]
    except MuseFxError as error:
        hint = ",".join(n for n in names if not ours(n)) or "input"
        raise click.ClickException(f"{error}\n(to evaluate without muse_fx's model: --systems {hint})") from error
    judged, against = _judged(criteria, candidate, references, names)
    setup = Setup(tuple(sorted({*boundaries, *inner})), no_harm, criteria, candidate=judged, references=against)
    with tqdm(total=len(clips) * len(names), unit="run", desc="eval") as bar:

        def step(system: str) -> None:
            bar.set_postfix_str(system, refresh=False)
            bar.update()

        table = run(clips, runnable, chosen, out, step, setup)
    click.echo(table)
    click.echo(
        f"wrote {out / 'clips.csv'}, {out / 'summary.md'}, {out / 'tonal_balance.png'}, "
        f"{out / 'tonal_balance.csv'} and {out / 'spectrograms'}/"
    )
