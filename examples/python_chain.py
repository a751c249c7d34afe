"""MuseEnhance next to pedalboard's own plugins, on the bundled example.

python examples/python_chain.py
"""

from pathlib import Path

from pedalboard import Compressor, HighpassFilter, Limiter
from pedalboard.io import AudioFile

from muse_fx import MuseEnhance, Pedalboard

HERE = Path(__file__).parent

with AudioFile(str(HERE / "sax-phone.wav")) as f:
    audio, sample_rate = f.read(f.frames), f.samplerate

board = Pedalboard([MuseEnhance(), HighpassFilter(60), Compressor(threshold_db=-20, ratio=2), Limiter(-1)])
clean = board(audio, sample_rate)

with AudioFile(str(HERE / "sax-phone_chain.wav"), "w", sample_rate, clean.shape[0]) as f:
    f.write(clean)
print(f"wrote {HERE / 'sax-phone_chain.wav'}")
