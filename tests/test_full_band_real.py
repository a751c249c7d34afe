"""Issue 26's model and objective: one generator over every band, no-harm pairs in each batch, and the
full_band_real config on tiny real-instrument-like data, run and resumed."""

import csv
import dataclasses
import random

import pytest
import soundfile as sf
import torch

from muse_fx.engine.mel2mel import Generator, SplitGenerator
from muse_fx.engine.model_config import FULL_BAND, FULL_BAND_SINGLE
from muse_fx.engine.registry import MODELS_DIR
from muse_fx.engine.weights import load_model
from muse_fx.training.data import Batches, DataConfig
from muse_fx.training.render import MANIFEST_FIELDS
from muse_fx.training.synthetic import tone_sequence
from muse_fx.training.train_config import load_config
from muse_fx.training.trainer import Trainer

RATE = 44100


def test_the_single_preset_is_one_generator_over_every_band_at_half_the_weights():
    single, split = Generator(FULL_BAND_SINGLE.mel2mel), SplitGenerator(FULL_BAND.mel2mel)
    assert FULL_BAND_SINGLE.mel == FULL_BAND.mel
    assert 2 * sum(p.numel() for p in single.parameters()) == sum(p.numel() for p in split.parameters())
    with torch.inference_mode():
        assert single(torch.zeros(1, 1, 176, 20)).shape == (1, 1, 176, 20)


def test_the_single_generator_starts_from_a_split_ones_lower_half():
    split = SplitGenerator(FULL_BAND.mel2mel)
    single = Generator(FULL_BAND_SINGLE.mel2mel)
    single.start_from(split)
    assert all(torch.equal(a, b) for a, b in zip(single.state_dict().values(), split.low.state_dict().values()))
    mel = torch.randn(1, 1, 128, 24)
    with torch.inference_mode():  # on the lower half's own bands it computes what that half does
        assert torch.allclose(single.eval()(mel), split.low.eval()(mel))


def _tiny_real(folder, rate=RATE):
    """Two 3 s clips (train, validation) in `muse-fx data real`'s manifest format."""
    folder.mkdir()
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for i, split in enumerate(("train", "validation")):
            sf.write(folder / f"{split}.flac", tone_sequence(3.0, rate, random.Random(i)).numpy(), rate)
            row = dict(file=f"{split}.flac", work=f"w{i}", take=0, arrangement="phrase", instrument="cello")
            row |= dict(program=-1, soundfont="real", transposition=0, split=split, duration=3.0, sample_rate=rate)
            writer.writerow(row)
    return folder


def _tiny_data(folder):
    """A data folder as the config expects it: clean/ and real/ (clip folders), rirs.pt, babble.pt, noises.pt
    (tiny banks)."""
    folder.mkdir()
    _tiny_real(folder / "clean")
    _tiny_real(folder / "real")
    noise = (torch.randn(RATE) * 0.1).half()
    torch.save({"sample_rate": RATE, "noises": [noise, noise], "split": ["train", "validation"]}, folder / "noises.pt")
    rir = torch.zeros(2000)
    rir[0], rir[400] = 1.0, 0.3
    torch.save(
        {"sample_rate": RATE, "rirs": [rir, rir], "rt60": [0.1, 0.1], "split": ["train", "validation"]},
        folder / "rirs.pt",
    )
    torch.save({"sample_rate": RATE, "utterances": [torch.randn(RATE) * 0.1]}, folder / "babble.pt")
    return folder


def test_no_harm_pairs_take_their_share_of_every_batch_and_leave_the_rest_as_they_were(tmp_path):
    data = DataConfig(clean=str(_tiny_real(tmp_path / "real")), segment_seconds=0.5)
    plain = Batches(data, "train", RATE, 704, seed=3)
    shared = Batches(dataclasses.replace(data, no_harm_share=0.25), "train", RATE, 704, seed=3)
    degraded, clean, draws = shared.next(8)
    degraded_before, clean_before, _ = plain.next(8)  # the degraded pairs drew as they did without the share
    assert torch.equal(degraded[:6], degraded_before[:6]) and torch.equal(clean[:6], clean_before[:6])
    for _ in range(3):
        same = [torch.equal(d, c) for d, c in zip(degraded, clean)]
        assert same == [False] * 6 + [True] * 2 and [bool(d.get("no_harm")) for d in draws] == same
        assert all(clean[i].abs().max() > 0 for i in (6, 7))
        degraded, clean, draws = shared.next(8)


@pytest.fixture
def real_config(tmp_path):
    small = {"steps": 2, "batch_size": 4, "validation_batches": 1, "threads": 1, "log_every": 1, "keep_every": 0}
    config = load_config("full_band_real", small | {"validate_every": 2}, _tiny_data(tmp_path / "DATA"))
    return dataclasses.replace(config, data=dataclasses.replace(config.data, segment_seconds=0.512))


def test_the_real_config_trains_every_new_term_and_resumes(real_config, tmp_path):
    assert real_config.preset == "full_band_single" and real_config.data.no_harm_share == 0.25
    o = real_config.optim
    assert o.lambda_balance and o.lambda_under and o.under_quiet_weight and o.under_low_weight
    run = tmp_path / "run"
    trainer = Trainer(real_config, "mel2mel", run)
    trainer.load(MODELS_DIR / "full-band-1.0.safetensors", weights_only=True)  # --init: its lower half
    lower = load_model(MODELS_DIR / "full-band-1.0.safetensors").mel2mel.low.state_dict()
    assert all(torch.equal(lower[k], v) for k, v in trainer.model.mel2mel.state_dict().items())
    trainer.run(log=lambda line: None)
    resumed = Trainer(dataclasses.replace(real_config, optim=dataclasses.replace(o, steps=3)), "mel2mel", run)
    resumed.load(run / "checkpoint.pt")
    resumed.run(log=lambda line: None)
    assert torch.load(run / "checkpoint.pt", weights_only=False)["step"] == 3
    with open(run / "losses.csv", newline="") as f:
        logged = {(row["split"], row["name"]) for row in csv.DictReader(f)}
    assert {("train", "g_balance"), ("train", "g_under"), ("validation", "balance_fast")} <= logged
