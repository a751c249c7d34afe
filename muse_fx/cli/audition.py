"""`muse-fx audition`: hear the presets and settings side by side on a local page, then pick one by ear."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from muse_fx.audition.variants import DEFAULT_SWEEPS, sweeps_text
from muse_fx.cli.setting_options import setting_option
from muse_fx.settings import DECLARED, LEVELS, MODEL, MUSECODER

MAX_SECONDS = 300.0  # every take is embedded in the page: minutes, not hours


def _names(ctx, param, value: str | None) -> list[str] | None:
    names = [name.strip() for name in value.split(",") if name.strip()] if value else None
    if value is not None and not names:
        raise click.BadParameter("give preset names separated by commas, e.g. gentle,phone-recording")
    return names


def _fractions(ctx, param, value: str | None) -> list[float] | None:
    """Comma-separated values of one of LEVELS, each checked by the setting's declaration."""
    if value is None:
        return None
    setting = DECLARED[param.name]
    fractions = []
    for text in value.split(","):
        try:
            fractions.append(setting.check(text))
        except ValueError:
            raise click.BadParameter(
                f"{text.strip()!r} is not a number from {setting.low:g} to {setting.high:g}; give values like 0.5,1.0"
            ) from None
    return fractions


def _plan(preset_names, sweeps):
    from muse_fx.audition.variants import default_plan, plan
    from muse_fx.presets import files as preset_files

    for name in preset_names or []:
        if name.endswith(".toml") and not Path(name).is_file():
            raise click.BadParameter(f"preset file {name} does not exist", param_hint="--presets")
        if not name.endswith(".toml") and name not in (known := preset_files.available()):
            raise click.BadParameter(
                f"unknown preset {name!r}; available: {', '.join(sorted(known))}", param_hint="--presets"
            )
    if preset_names or sweeps:
        return plan(preset_names or [None], sweeps)
    bundled = sorted(path.stem for path in preset_files.BUNDLED_DIR.glob("*.toml"))
    return default_plan(bundled)


def _sweep_options(command):
    """--<name> for each of LEVELS: comma-separated values, every preset rendered at each."""
    for setting in reversed(LEVELS):
        values = f"comma-separated values ({setting.low:g}–{setting.high:g})"
        help = f"{setting.help}: {values}; each preset is rendered at each."
        command = click.option(f"--{setting.name}", callback=_fractions, help=help)(command)
    return command


def _summarise(paths) -> None:
    from muse_fx.audition.summarise import read_ratings, summarise, table

    click.echo(table(summarise(read_ratings(list(paths)))))


def _serve(folder: Path, open_page: bool) -> None:
    import webbrowser

    from muse_fx.audition.serve import page_server, page_url

    server = page_server(folder)
    click.echo(f"serving {folder} at {page_url(server)} (Ctrl-C stops)", err=True)
    if open_page:
        webbrowser.open(page_url(server))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.server_close()


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--presets",
    "preset_names",
    callback=_names,
    help="Comma-separated preset names or .toml files.  [default: every bundled preset, and the plain "
    f"model at {sweeps_text(DEFAULT_SWEEPS)}]",
)
@_sweep_options
@click.option("--start", type=click.FloatRange(min=0), default=0.0, show_default=True, help="Seconds into INPUT.")
@click.option(
    "--duration",
    type=click.FloatRange(0.5, MAX_SECONDS),
    help=f"Seconds to audition (≤ {MAX_SECONDS:g}).  [default: to the end, at most 30]",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the page.  [default: INPUT's name + _audition, beside it]",
)
@click.option("--overwrite", is_flag=True, help="Replace an audition page already in --out.")
@click.option(
    "--blind",
    is_flag=True,
    help="MUSHRA-style blind test: hidden names, shuffled, hidden reference and "
    "3.5 kHz anchor; ratings on sliders, downloaded as JSON.",
)
@click.option("--shuffle-seed", type=click.IntRange(min=0), help="Seed of the blind order.  [default: random]")
@setting_option(MODEL, help=f"{MODEL.help}, for every variant.  [default: {MODEL.default}]")
@setting_option(MUSECODER, help=f"{' or '.join(MUSECODER.choices)}, for every variant.")
@click.option("--device", help="auto, cpu, cuda or mps.  [default: auto]")
@click.option("--serve", is_flag=True, help="Serve the page on 127.0.0.1 until Ctrl-C instead of opening the file.")
@click.option("--no-open", is_flag=True, help="Do not open the page in a browser.")
@click.option(
    "--summarise",
    is_flag=True,
    help="INPUTS are ratings JSON files from blind pages: print each variant's mean and 95% confidence interval.",
)
def audition(
    inputs,
    preset_names,
    start,
    duration,
    out,
    overwrite,
    blind,
    shuffle_seed,
    serve,
    no_open,
    summarise,
    **common,
):
    """Render INPUT with several presets and settings and write a page to compare them by ear.

    The page (index.html, with its audio and pictures beside it) works offline from file://. Every version is
    loudness-matched; keys 0…9 switch between them at the same position (0 is the original). Each version shows
    the `muse-fx enhance` command and the preset file that reproduce it.
    """
    if summarise:
        return _summarise(inputs)
    if len(inputs) != 1:
        raise click.UsageError("audition takes one INPUT audio file (or, with --summarise, ratings files)")
    from muse_fx.audition.page import write_audition

    source = inputs[0]
    sweeps = {setting.name: values for setting in LEVELS if (values := common.pop(setting.name))}
    variants = _plan(preset_names, sweeps)
    out = out or source.with_name(f"{source.stem}_audition")
    shuffle_seed = secrets.randbelow(2**31) if shuffle_seed is None else shuffle_seed
    excerpt = write_audition(
        source,
        variants,
        common,
        out,
        start=start,
        duration=duration,
        blind=blind,
        shuffle_seed=shuffle_seed,
        overwrite=overwrite,
        report=lambda line: click.echo(line, err=True),
    )
    extra = f", blind (shuffle seed {shuffle_seed})" if blind else ""
    click.echo(
        f"✓ {out / 'index.html'}: {len(variants)} version(s) of {excerpt.duration:.1f} s from "
        f"{excerpt.start:g} s, loudness-matched{extra}",
        err=True,
    )
    if serve:
        _serve(out, open_page=not no_open)
    elif not no_open:
        import webbrowser

        webbrowser.open((out / "index.html").resolve().as_uri())
