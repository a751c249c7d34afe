"""How examples/sax-phone.wav was made: a public-domain render, degraded by muse_fx's own training chain.

    python examples/make_example.py DATA/clean DATA/rirs.pt DATA/babble.pt  (DATA: the `muse-fx data …` folder)

The clean line is O'Neill's "Music of Ireland" (1903, public domain) rendered by `muse-fx data render` with an
alto-sax patch of FluidR3_GM (MIT); the degradation draws (room, noise, mic EQ) are saved beside it as JSON.
"""

import json
import random
import sys
from pathlib import Path

import soundfile as sf
import torch

from muse_fx.training.data import bank_items
from muse_fx.training.degrade.chain import DegradeConfig, Degrader

HERE = Path(__file__).parent
SOURCE = "oneills1850_8__melody__alto_sax.flac"
START, SECONDS = 2.0, 10.0


def main(clean_dir: str, rirs: str, babble: str, seed: int = 7) -> None:
    audio, rate = sf.read(str(Path(clean_dir) / SOURCE), dtype="float32")
    clean = torch.from_numpy(audio[int(START * rate) : int((START + SECONDS) * rate)])
    rir_list, rt60 = bank_items(rirs, "rirs", "test")
    babble_list, _ = bank_items(babble, "utterances", None)
    # No clean-target floor: that training-only draw came after this example and would change every draw.
    degrader = Degrader(rate, DegradeConfig(clean_floor_db=None), rirs=rir_list, rt60=rt60, babble=babble_list)
    rng = random.Random(seed)
    while True:  # redraw until the example shows the three problems the paper targets
        degraded, target, params = degrader(clean, rng)
        if {"reverb", "noise", "mic_eq"} <= params.keys() and "clip" not in params:
            break
    peak = max(degraded.abs().max(), target.abs().max()) / 0.5
    sf.write(str(HERE / "sax-phone.wav"), (degraded / peak).numpy(), rate, subtype="PCM_16")
    sf.write(str(HERE / "sax-phone_clean.wav"), (target / peak).numpy(), rate, subtype="PCM_16")
    (HERE / "sax-phone.json").write_text(
        json.dumps(
            {"source": SOURCE, "start_s": START, "seconds": SECONDS, "seed": seed, "degradation": params}, indent=2
        )
        + "\n"
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
