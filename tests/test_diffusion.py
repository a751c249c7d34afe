import numpy as np
import pytest
import torch

from muse_fx.engine.diffusion import aligned_schedule, schedule_for, training_schedule
from muse_fx.engine.model_config import MusecoderConfig

CONFIG = MusecoderConfig()

# DiffWave's fast schedule (paper Sec. 4 / appendix: T = 50 training steps, β linear 1e-4…0.05, inference
# η = 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5). The aligned steps are pinned here as the reference loop below gives them.
PINNED_ALIGNED_STEPS = [0.0, 0.8941, 4.0867, 10.4518, 22.9925, 42.9186]


def reference_alignment(train_beta, infer_beta):
    """lmnt-com/diffwave inference.py's alignment loop, transcribed with numpy, as an independent check."""
    talpha_cum = np.cumprod(1 - np.asarray(train_beta))
    alpha_cum = np.cumprod(1 - np.asarray(infer_beta))
    steps = []
    for s in range(len(infer_beta)):
        for t in range(len(train_beta) - 1):
            if talpha_cum[t + 1] <= alpha_cum[s] <= talpha_cum[t]:
                twiddle = (talpha_cum[t] ** 0.5 - alpha_cum[s] ** 0.5) / (
                    talpha_cum[t] ** 0.5 - talpha_cum[t + 1] ** 0.5
                )
                steps.append(t + twiddle)
                break
    return steps


def test_training_schedule_is_the_papers():
    s = training_schedule(CONFIG)
    assert len(s) == 50
    assert float(s.beta[0]) == pytest.approx(1e-4)
    assert float(s.beta[-1]) == pytest.approx(0.05)
    assert torch.allclose(s.beta.diff(), s.beta.diff()[0].expand(49))


def test_fast_schedule_coefficients_match_documented_values():
    s = schedule_for(CONFIG, 6)
    assert s.beta.tolist() == pytest.approx([1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5])
    assert s.steps.tolist() == pytest.approx(PINNED_ALIGNED_STEPS, abs=1e-4)
    reference = reference_alignment(np.linspace(1e-4, 0.05, 50), [1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5])
    assert s.steps.tolist() == pytest.approx(reference, abs=1e-9)


def test_aligned_steps_reproduce_the_inference_noise_levels():
    """Interpolating √ᾱ of the training chain at t_align gives back each inference √ᾱ."""
    train = training_schedule(CONFIG).alpha_cum.sqrt()
    fast = aligned_schedule(CONFIG, CONFIG.fast_schedule)
    for t, target in zip(fast.steps.tolist(), fast.alpha_cum.sqrt().tolist()):
        low = int(t)
        high = min(low + 1, 49)
        value = train[low] + (t - low) * (train[high] - train[low])
        assert float(value) == pytest.approx(target, rel=1e-9)


def test_other_step_counts_are_refused():
    with pytest.raises(ValueError, match="steps must be 6"):
        schedule_for(CONFIG, 10)


def test_warm_start_joins_the_chain_late_and_keeps_the_start_signal():
    from muse_fx.engine.diffusion import sample, schedule_for, warm_start_step
    from muse_fx.engine.model_config import MelConfig, MusecoderConfig
    from muse_fx.engine.musecoder import Musecoder

    torch.manual_seed(0)
    config = MusecoderConfig(residual_channels=4, residual_layers=2, dilation_cycle=2)
    model = Musecoder(config, MelConfig()).eval()
    calls = []
    forward = model.forward
    model.forward = lambda *args: calls.append(1) or forward(*args)
    schedule = schedule_for(config, 6)
    mel = torch.zeros(1, 128, 8)
    start = 0.5 * torch.sin(torch.arange(8 * 256) / 10.0).unsqueeze(0)
    with torch.no_grad():
        cold = sample(model, mel, schedule, [torch.Generator().manual_seed(0)])
        cold_calls, calls[:] = len(calls), []
        warm = sample(model, mel, schedule, [torch.Generator().manual_seed(0)], start=start)
    assert cold_calls == 6 and len(calls) == warm_start_step(schedule) + 1 < 6
    similarity = [float(torch.nn.functional.cosine_similarity(x, start)) for x in (cold, warm)]
    assert similarity[1] > 0.5 > abs(similarity[0])
