"""The mel gain behind the fast musecoder, and `match_mel`, which uses it to clean up a vocoder's output."""

import torch

from muse_fx.engine.fast_path import apply_mel_gain, match_mel
from muse_fx.engine.mel import LogMel
from muse_fx.engine.model_config import MelConfig

RATE = 16000


def tone(seconds: float = 1.0) -> torch.Tensor:
    t = torch.arange(int(seconds * RATE)) / RATE
    return (0.3 * torch.sin(2 * torch.pi * 440 * t) + 0.1 * torch.sin(2 * torch.pi * 880 * t))[None]


def test_a_gain_towards_the_inputs_own_mel_changes_nothing():
    log_mel = LogMel(MelConfig())
    audio = tone() + 0.01 * torch.randn(1, RATE, generator=torch.Generator().manual_seed(0))
    mel = log_mel(audio)
    assert torch.allclose(apply_mel_gain(audio, mel, mel, log_mel), audio, atol=1e-5)


def test_match_mel_strips_hiss_the_target_mel_does_not_have_and_converges_with_passes():
    log_mel = LogMel(MelConfig())
    clean = tone()
    hissy = clean + 0.01 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    target = log_mel(clean)
    distances = [float((log_mel(match_mel(hissy, target, log_mel, n)) - target).abs().mean()) for n in range(4)]
    assert distances[0] > 1.0 and all(a > b for a, b in zip(distances, distances[1:]))
    assert distances[3] < 0.25 * distances[0]

    def level_above_3k(x):
        return float(torch.fft.rfft(x[0])[3 * len(x[0]) // 16 :].abs().square().sum())

    matched = match_mel(hissy, target, log_mel, 3)
    assert level_above_3k(matched) < 0.01 * level_above_3k(hissy)  # >20 dB less hiss where the tone has nothing
    assert torch.corrcoef(torch.cat([matched, clean]))[0, 1] > 0.99  # the tone itself is kept
