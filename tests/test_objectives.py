"""The training objectives that aim at what listeners hear as damage: dull highs cost, brightness does not."""

import math

import torch

from muse_fx.training.objectives import darkening

RATE = 44100


def _two_tones(high_gain: float) -> torch.Tensor:
    """1 s of a 1 kHz tone plus a 12 kHz tone at `high_gain` (amplitude), as a batch of one."""
    t = torch.arange(RATE) / RATE
    return (torch.sin(2 * math.pi * 1000 * t) + high_gain * torch.sin(2 * math.pi * 12000 * t)).unsqueeze(0)


def test_darkening_is_the_shortfall_of_the_high_share_in_db():
    clean, dull = _two_tones(0.5), _two_tones(0.05)
    # share above 8 kHz: 0.25/1.25 for the clean, 0.0025/1.0025 for the dull output
    expected = 10 * math.log10(0.25 / 1.25) - 10 * math.log10(0.0025 / 1.0025)
    assert abs(float(darkening(dull, clean, RATE)) - expected) < 0.05


def test_a_brighter_output_and_a_16k_model_cost_nothing():
    clean, bright = _two_tones(0.05), _two_tones(0.5)
    assert float(darkening(bright, clean, RATE)) == 0.0
    assert float(darkening(torch.zeros(1, 16000), torch.randn(1, 16000), 16000)) == 0.0


def test_darkening_has_a_gradient_that_brightens():
    clean = _two_tones(0.5)
    output = _two_tones(0.05).requires_grad_()
    darkening(output, clean, RATE).backward()
    assert output.grad is not None
    # a small step against the gradient raises the output's high share
    stepped = (output - 1e-3 * output.grad / output.grad.abs().max()).detach()
    assert float(darkening(stepped, clean, RATE)) < float(darkening(output.detach(), clean, RATE))
