"""Writing the page folder: the templates in assets/, each take's audio as a base64 script (a file:// page may load
scripts but not fetch() files), its spectrogram, and data.js that describes them all.

Blind mode follows MUSHRA (ITU-R BS.1534): the labelled original stays on key 0 as the open reference; the
variants, a hidden reference (the original again: there is no clean recording to compare with, so the input is
the reference) and an anchor (the original low-passed at 3.5 kHz) are shuffled and shown only as numbers.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from muse_fx.audition.render import Excerpt, Take, picture, read_excerpt, render_anchor, render_original, render_variant
from muse_fx.audition.variants import Variant, slug
from muse_fx.io.audio_files import OutputError, check_folder
from muse_fx.presets.files import unused_name, user_dir

ASSETS = Path(__file__).parent / "assets"
TEMPLATES = ("index.html", "audition.css", "audition.js")
PAGE_FILES = {*TEMPLATES, "data.js", "audio", "images"}
HIDDEN_REFERENCE = "hidden reference"
BLIND_PICTURE_TITLE = "the reference for every item: a blind test shows no item's own spectrogram"


def _is_page(folder: Path) -> bool:
    names = {path.name for path in folder.iterdir()}
    return "data.js" in names and names <= PAGE_FILES


@contextlib.contextmanager
def staged_folder(out: Path, overwrite: bool) -> Iterator[Path]:
    """A hidden folder beside `out` that becomes `out` on success and vanishes on any error or interrupt.

    An existing `out` is replaced only if it is empty, or with `overwrite` if it holds nothing but a page."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file; --out names the folder to write the page into")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputError(
                f"{out}: folder exists and is not empty; pass --overwrite to replace the page in it, "
                "or choose another --out"
            )
        if not _is_page(out):
            raise OutputError(
                f"{out}: holds files that are not an audition page; not replacing it — choose another --out"
            )
    check_folder(out, instead="choose another --out")
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    os.chmod(staging, 0o755)  # mkdtemp's 0700 would make the page private to its writer
    try:
        yield staging
        if out.exists():
            old = staging.with_name(staging.name + ".old")
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old)
        else:
            os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def matching_gains(loudness: list[float]) -> list[float]:
    """dB that bring every take to the quietest one's loudness: gains only ever cut, so nothing clips.
    Silence (-inf LUFS) is left as it is."""
    target = min((value for value in loudness if math.isfinite(value)), default=0.0)
    return [target - value if math.isfinite(value) else 0.0 for value in loudness]


def write_audition(
    source: Path,
    variants: list[Variant],
    common: dict,
    out: Path,
    *,
    start: float = 0.0,
    duration: float | None = None,
    blind: bool = False,
    shuffle_seed: int = 0,
    overwrite: bool = False,
    report: Callable[[str], None] = print,
) -> Excerpt:
    """Render the original and every variant of the excerpt and write the page to `out`/index.html."""
    excerpt = read_excerpt(source, start, duration)
    for warning in excerpt.warnings:
        report(f"! {warning}")
    with staged_folder(out, overwrite) as folder:
        scratch = folder / "render"
        scratch.mkdir()
        original = render_original(excerpt, scratch / "original.wav")
        takes = []
        for number, variant in enumerate(variants, 1):
            report(f"rendering {variant.name} ({number}/{len(variants)})")
            takes.append(render_variant(variant, common, excerpt, scratch / f"{number:02d}.wav"))
        if blind:
            hidden_reference = dataclasses.replace(original, name=HIDDEN_REFERENCE)
            takes += [hidden_reference, render_anchor(excerpt, scratch / "anchor.wav")]
            random.Random(shuffle_seed).shuffle(takes)
        _write_page(folder, excerpt, [original, *takes], blind, shuffle_seed)
        shutil.rmtree(scratch)
    return excerpt


def _audio_script(wav: Path, script: Path, item_id: str) -> None:
    encoded = base64.b64encode(wav.read_bytes()).decode("ascii")
    script.write_text(f'(window.AUDITION_AUDIO = window.AUDITION_AUDIO || {{}})["{item_id}"] = "{encoded}";\n')


def _picture_data(folder: Path, takes: list[Take], index: int, blind: bool, rate: int) -> dict | None:
    """Before/after spectrogram of take `index` (the original alone for 0). In blind mode only the reference's,
    shown for every item, so it says so rather than call itself the original of whatever is playing."""
    if blind and index:
        return None
    original, take = takes[0], takes[index]
    if blind:
        panels, title = {"reference (key 0)": original.wav}, BLIND_PICTURE_TITLE
    elif index:
        panels, title = {"before": original.wav, "after": take.wav}, take.name
    else:
        panels, title = {"original": original.wav}, ""
    shown = picture(panels, rate, folder / "images" / f"item-{index:02d}.png", title)
    fields = dataclasses.asdict(shown)
    return {**fields, "path": shown.path.relative_to(folder).as_posix()}


def _item(folder: Path, takes: list[Take], index: int, gain: float, blind: bool, rate: int) -> dict:
    take, item_id = takes[index], f"item-{index:02d}"
    _audio_script(take.wav, folder / "audio" / f"{item_id}.js", item_id)
    shown = not blind
    return {
        "id": item_id,
        "key": index,
        "label": take.name if shown else ("reference" if index == 0 else f"item {index}"),
        "audio": f"audio/{item_id}.js",
        "gain_db": gain,
        "loudness": take.loudness if math.isfinite(take.loudness) else None,
        "picture": _picture_data(folder, takes, index, blind, rate),
        "command": take.command if shown else None,
        "preset_toml": take.preset_toml if shown else None,
        "preset_path": str(user_dir() / f"{unused_name(slug(take.name))}.toml") if shown and take.preset_toml else None,
    }


def _write_page(folder: Path, excerpt: Excerpt, takes: list[Take], blind: bool, shuffle_seed: int) -> None:
    for name in TEMPLATES:
        shutil.copyfile(ASSETS / name, folder / name)
    (folder / "audio").mkdir()
    (folder / "images").mkdir()
    gains = matching_gains([take.loudness for take in takes])
    names = [take.name for take in takes]
    fingerprint = hashlib.sha256(excerpt.audio.tobytes() + json.dumps([names, shuffle_seed]).encode())
    data = {
        "page_id": fingerprint.hexdigest()[:12],
        "source": excerpt.source.name,
        "start": excerpt.start,
        "duration": excerpt.duration,
        "blind": blind,
        "shuffle_seed": shuffle_seed if blind else None,
        "items": [_item(folder, takes, index, gain, blind, excerpt.rate) for index, gain in enumerate(gains)],
        "names": {f"item-{index:02d}": name for index, name in enumerate(names)},
    }
    (folder / "data.js").write_text(f"window.AUDITION = {json.dumps(data, indent=1)};\n")
