"""The training objectives that aim at what listeners hear as damage: dull highs, highs brighter than the clean, a
long-term spectrum that tilts or steps, and holes cut in soft decays and low bands."""

import math

import torch

from muse_fx.engine.mel import LogMel
from muse_fx.engine.model_config import FULL_BAND_MEL
from muse_fx.training.objectives import (
    UNWEIGHTED,
    UnderWeighting,
    balance_loss,
    high_band_balance,
    spectral_losses,
    unrecorded_bands,
)

RATE = 44100


def _two_tones(high_gain: float) -> torch.Tensor:
    """1 s of a 1 kHz tone plus a 12 kHz tone at `high_gain` (amplitude), as a batch of one."""
    t = torch.arange(RATE) / RATE
    return (torch.sin(2 * math.pi * 1000 * t) + high_gain * torch.sin(2 * math.pi * 12000 * t)).unsqueeze(0)


# share above 8 kHz: 0.25/1.25 with the 12 kHz tone at 0.5, 0.0025/1.0025 at 0.05
SHARE_GAP_DB = 10 * math.log10(0.25 / 1.25) - 10 * math.log10(0.0025 / 1.0025)


def test_a_duller_output_darkens_by_its_shortfall_of_high_share_in_db():
    darker, brighter = high_band_balance(_two_tones(0.05), _two_tones(0.5), RATE)
    assert abs(float(darker) - SHARE_GAP_DB) < 0.05
    assert float(brighter) == 0.0


def test_a_brighter_output_brightens_by_its_excess_and_a_16k_model_costs_nothing():
    darker, brighter = high_band_balance(_two_tones(0.5), _two_tones(0.05), RATE)
    assert float(darker) == 0.0
    assert abs(float(brighter) - SHARE_GAP_DB) < 0.05
    assert [float(x) for x in high_band_balance(torch.zeros(1, 16000), torch.randn(1, 16000), 16000)] == [0.0, 0.0]


def test_each_side_has_a_gradient_towards_the_clean_balance():
    clean = _two_tones(0.5)
    for start, side in ((0.05, 0), (2.0, 1)):
        output = _two_tones(start).requires_grad_()
        high_band_balance(output, clean, RATE)[side].backward()
        assert output.grad is not None
        stepped = (output - 1e-3 * output.grad / output.grad.abs().max()).detach()
        before, after = (float(high_band_balance(x, clean, RATE)[side]) for x in (output.detach(), stepped))
        assert after < before


def test_a_darkened_output_costs_more_balance_and_its_gradient_brightens_it():
    """The long-term balance: a cut of 2 (log2 units, 6 dB) in the upper bands of every frame costs its mean."""
    clean = torch.randn(2, 176, 50)
    assert float(balance_loss(clean.clone(), clean)) == 0.0
    darkened = clean.clone()
    darkened[:, 100:] -= 2.0
    output = darkened.requires_grad_()
    loss = balance_loss(output, clean)
    assert abs(float(loss.detach()) - 2.0 * 76 / 176) < 1e-5
    loss.backward()
    assert (output.grad[:, 100:] < 0).all() and (output.grad[:, :100] == 0).all()  # descent raises the cut bands


def test_a_balance_loss_sees_a_step_that_frame_to_frame_noise_hides():
    """The same L1 per frame, once as noise around the clean that keeps its power and once as a step at a band:
    only the step costs."""
    clean = torch.zeros(1, 176, 400)
    up = torch.rand(1, 176, 400) < 0.5
    noisy = clean + torch.where(up, 0.5, math.log2(2 - 2**0.5))  # +0.5 and -0.77: the mean power is unchanged
    stepped = clean.clone()
    stepped[:, 128:] += 1.0
    assert float(balance_loss(noisy, clean)) < 0.1 < float(balance_loss(stepped, clean))


def test_a_balance_loss_weighs_frames_as_they_sound_so_the_level_counts():
    """A decay 20 dB down cut 15 dB more costs less than the whole take 3 dB quieter: loud frames carry the
    long-term spectrum, as they carry what a listener hears as level."""
    clean = torch.zeros(1, 176, 100)
    clean[..., 50:] = -20 / 3.01  # a soft half, 20 dB down
    gated, quieter = clean.clone(), clean - 1.0  # quieter: 3 dB down everywhere
    gated[..., 50:] -= 15 / 3.01
    assert float(balance_loss(gated, clean)) < 0.1 < 0.99 < float(balance_loss(quieter, clean))


def _low_and_high(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """1 s of a 200 Hz tone and a 5 kHz tone at the given per-sample amplitudes, as a batch of one."""
    t = torch.arange(RATE) / RATE
    return (low * torch.sin(2 * math.pi * 200 * t) + high * torch.sin(2 * math.pi * 5000 * t)).unsqueeze(0)


def test_the_weighted_over_suppression_penalty_costs_holes_most_in_soft_decays_and_low_bands():
    """A loud first half and a second half 20 dB softer. Dropping the low tone in the soft half (a cello's decay
    gated) costs more than dropping the high tone in the loud half once the penalty is weighed where holes occur."""
    loud = torch.cat([torch.ones(RATE // 2), torch.full((RATE // 2,), 0.1)])
    clean = _low_and_high(loud, loud)
    gated_low_decay = _low_and_high(torch.cat([loud[: RATE // 2], torch.zeros(RATE // 2)]), loud)
    dulled_loud_high = _low_and_high(loud, torch.cat([torch.zeros(RATE // 2), loud[RATE // 2 :]]))
    weighting = UnderWeighting(quiet=4.0, low=6.0, low_hz=500.0)

    def under(output, weights=UNWEIGHTED):
        return float(spectral_losses(output, clean, RATE, weights)[1])

    plain = under(gated_low_decay) / under(dulled_loud_high)
    weighted = under(gated_low_decay, weighting) / under(dulled_loud_high, weighting)
    assert weighted > 1.0 and weighted > 3 * plain
    output = gated_low_decay.clone().requires_grad_()
    spectral_losses(output, clean, RATE, weighting)[1].backward()
    assert output.grad is not None
    stepped = (output - 1e-2 * output.grad / output.grad.abs().max()).detach()
    assert under(stepped, weighting) < under(gated_low_decay, weighting)


def test_zero_weights_are_the_plain_mean():
    clean, output = torch.randn(2, 8000), torch.randn(2, 8000)
    plain = spectral_losses(output, clean, 16000)
    explicit = spectral_losses(output, clean, 16000, UnderWeighting(quiet=0.0, low=0.0))
    assert all(torch.equal(a, b) for a, b in zip(plain, explicit))


def test_only_bands_wholly_above_a_low_rate_recordings_nyquist_go_unscored():
    log_mel = LogMel(FULL_BAND_MEL)
    draws = [{"low_rate": {"sample_rate": 16000}}, {"source": {}}, {"no_harm": True}]
    unrecorded = unrecorded_bands(draws, log_mel)
    assert unrecorded.shape == (3, 1, FULL_BAND_MEL.n_mels, 1)
    assert not unrecorded[1:].any()  # a pair at the model's own rate is scored in every band
    fb = log_mel.filterbank
    freqs = torch.linspace(0, FULL_BAND_MEL.sample_rate / 2, fb.shape[0])
    reaches_below = [bool((freqs[fb[:, band] > 0] < 8000).any()) for band in range(fb.shape[1])]
    assert unrecorded[0, 0, :, 0].tolist() == [not below for below in reaches_below]
    assert 0 < int(unrecorded[0].sum()) < FULL_BAND_MEL.n_mels
