"""Streaming a file block by block, the way pedalboard's AudioFile loops do: memory stays flat for any length.

python examples/streaming.py examples/sax-phone.wav enhanced.wav
"""

import sys

import numpy as np
from pedalboard.io import AudioFile

from muse_fx import MuseEnhance

source, destination = sys.argv[1:3]
enhance = MuseEnhance()
with AudioFile(source) as f, AudioFile(destination, "w", f.samplerate, f.num_channels) as out:
    while f.tell() < f.frames:
        out.write(enhance(f.read(f.samplerate), f.samplerate, reset=False))  # early blocks come back shorter
    out.write(enhance(np.zeros((f.num_channels, 0), np.float32), f.samplerate, reset=True))  # the held rest
print(f"wrote {destination}: {enhance.latency} samples of latency at most")
