"""A preset-driven chain: load one, tweak it, save your own.

python examples/preset_chain.py
"""

from pathlib import Path

import soundfile as sf

from muse_fx import load_preset, save_preset

HERE = Path(__file__).parent

board = load_preset("phone-recording", mix=0.9)  # keyword arguments override MuseEnhance's settings
print(board)
audio, sample_rate = sf.read(str(HERE / "sax-phone.wav"), dtype="float32", always_2d=True)
sf.write(str(HERE / "sax-phone_preset.wav"), board(audio.T, sample_rate).T, sample_rate)
save_preset(board, HERE / "my-phone-recording.toml", description="phone-recording at 90% mix")
print("wrote sax-phone_preset.wav and my-phone-recording.toml")
