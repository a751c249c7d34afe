"""The training objectives that aim at what listeners hear as damage: dull highs, and highs brighter than the clean."""

import math

import torch

from muse_fx.training.objectives import high_band_balance

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
