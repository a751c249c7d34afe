"""Turning command-line arguments (files, folders, globs) into (input, output) pairs."""

from __future__ import annotations

import glob
from pathlib import Path

import click

from muse_fx.io.audio_files import EXTENSIONS, FORMATS, READABLE, output_extension


def expand(arguments: tuple[str, ...], recursive: bool) -> tuple[list[Path], list[Path]]:
    """Files as given, audio files inside folders, and quoted globs the shell left alone; order kept, no repeats.

    Also returns the files inside folders that muse-fx cannot read, to be listed as skipped (hidden files,
    such as .DS_Store or a killed run's debris, are left out of both).
    """
    found: list[Path] = []
    skipped: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(p for p in path.glob(pattern) if p.is_file() and not p.name.startswith("."))
            found += [p for p in files if p.suffix.lower() in READABLE]
            skipped += [p for p in files if p.suffix.lower() not in READABLE]
        elif any(ch in argument for ch in "*?[") and not path.exists():
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=recursive))
            if not matches:
                raise click.BadParameter(f"no files match {argument!r}", param_hint="INPUT")
            found += matches
        else:
            found.append(path)  # missing files are reported per file, so the rest still run
    unique = list(dict.fromkeys(found))
    if not unique:
        also = f" (skipped {len(skipped)} file(s) that are not audio muse-fx reads)" if skipped else ""
        raise click.BadParameter(f"no audio files found in the given inputs{also}", param_hint="INPUT")
    return unique, skipped


def plan_outputs(
    inputs: list[Path], output: Path | None, output_dir: Path | None, suffix: str, fmt: str | None
) -> list[tuple[Path, Path]]:
    """Where each input's result goes: -o for one file, --output-dir for many, else `<name><suffix>` beside it."""
    if output and len(inputs) > 1:
        raise click.UsageError("-o/--output takes one input; use --output-dir for several files")
    if output and output_dir:
        raise click.UsageError("use either -o/--output or --output-dir, not both")
    extension = EXTENSIONS[FORMATS[fmt.lower()]] if fmt else None
    pairs = []
    for source in inputs:
        if output:
            destination = output
        elif output_dir:
            destination = output_dir / (source.stem + (extension or output_extension(source)))
        else:
            destination = source.with_name(source.stem + suffix + (extension or output_extension(source)))
        pairs.append((source, destination))
    targets = [d.resolve() for _, d in pairs]
    for (_, destination), target in zip(pairs, targets):
        if targets.count(target) > 1:
            raise click.UsageError(f"two inputs would both be written to {destination}; rename one of them")
    return pairs
