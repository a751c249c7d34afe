"""The soundfonts the clean corpus is rendered with, and why each Debian GM soundfont is in or out.

Weights trained on renders are derived from the samples, so only fonts whose licence lets us ship derived weights
under this project's GPL-3.0-or-later are used; the model card repeats this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SF2, SF3 = Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3")


@dataclass(frozen=True)
class Soundfont:
    path: Path
    package: str  # the Debian package that installs it
    licence: str
    weight: float  # relative chance of being drawn for a clip
    drum_kit: bool = False  # a kit on bank 0, program 0 (not a GM bank with its kit on channel 10)

    @property
    def name(self) -> str:
        return self.path.name


SOUNDFONTS = (
    Soundfont(SF2 / "FluidR3_GM.sf2", "fluid-soundfont-gm", "MIT", 0.35),
    Soundfont(SF2 / "MuseScore_General_Full.sf2", "musescore-general-soundfont-lossless", "MIT; parts CC0", 0.35),
    Soundfont(SF3 / "FluidR3Mono_GM.sf3", "fluidr3mono-gm-soundfont", "MIT", 0.2),
    Soundfont(SF2 / "sf_GMbank.sf2", "csound-soundfont", "public domain", 0.1),
)
DRUM_KITS = (
    Soundfont(SF2 / "Black_Pearl_4_LV2.sf2", "avldrums.lv2-soundfont", "GPL-2.0-or-later", 1.0, drum_kit=True),
    Soundfont(SF2 / "Red_Zeppelin_4_LV2.sf2", "avldrums.lv2-soundfont", "GPL-2.0-or-later", 1.0, drum_kit=True),
)
# Debian GM-family soundfonts left out, and why.
EXCLUDED = {
    "TimGM6mb.sf2 (timgm6mb-soundfont)": "GPL-2 only, which cannot be combined with GPL-3 weights",
    "OPL-3_FM_128M.sf2 (opl3-soundfont)": "CC-BY-SA-4.0; an FM-chip emulation, not the acoustic timbres we restore",
    "FluidR3_GS.sf2 (fluid-soundfont-gs)": "MIT, but only FluidR3's GS variation banks: no new samples",
    "MuseScore_General.sf3 (musescore-general-soundfont)": "the lossy copy of MuseScore_General_Full.sf2",
}


def installed(fonts: tuple[Soundfont, ...]) -> tuple[Soundfont, ...]:
    return tuple(font for font in fonts if font.path.exists())
