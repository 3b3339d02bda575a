"""The shifted-SNR schedule and the one-step x0 estimates."""

from __future__ import annotations

import pytest
import torch

from photo3d.paradigms.mvdiffusion.schedule import (
    betas_from_alphas_cumprod, estimate_x0, sample_timesteps, shifted_alphas_cumprod, shifted_ddpm,
)


def test_interpolated_shift_goes_from_no_shift_to_the_full_shift():
    base = shifted_ddpm(scale=1.0)
    a = base.alphas_cumprod.double()
    snr = a / (1 - a)
    s = shifted_alphas_cumprod(base.alphas_cumprod, 8.0, "interpolated")
    snr_s = s / (1 - s)
    assert torch.allclose(snr_s[0], snr[0], rtol=1e-9)
    assert torch.allclose(snr_s[-1], snr[-1] / 8, rtol=1e-9)
    mid = len(a) // 2
    w = mid / (len(a) - 1)
    assert torch.allclose(snr_s[mid], snr[mid] / 8**w, rtol=1e-9)  # log-linear in t
    full = shifted_alphas_cumprod(base.alphas_cumprod, 8.0, "default")
    assert torch.allclose(full / (1 - full), snr / 8, rtol=1e-9)
    assert (s <= a + 1e-12).all()  # less signal everywhere
    with pytest.raises(ValueError):
        shifted_alphas_cumprod(base.alphas_cumprod, 8.0, "other")


def test_rebuilt_scheduler_uses_the_shifted_alphas():
    a = shifted_alphas_cumprod(shifted_ddpm(scale=1.0).alphas_cumprod, 8.0)
    sched = shifted_ddpm(scale=8.0)
    assert type(sched).__name__ == "DDPMScheduler" and sched.config.prediction_type == "epsilon"
    assert torch.allclose(sched.alphas_cumprod.double(), a, rtol=1e-5)
    assert torch.allclose(torch.cumprod(1 - betas_from_alphas_cumprod(a), 0), a, rtol=1e-12)
    x0, eps, t = torch.randn(3, 4, 2, 2), torch.randn(3, 4, 2, 2), torch.tensor([10, 500, 990])
    xt = sched.add_noise(x0, eps, t)
    at = a[t].float().view(-1, 1, 1, 1)
    assert torch.allclose(xt, at.sqrt() * x0 + (1 - at).sqrt() * eps, atol=1e-5)


@pytest.mark.parametrize("kind", ["epsilon", "v_prediction", "sample"])
def test_exact_prediction_recovers_x0(kind):
    sched = shifted_ddpm(scale=8.0)
    sched.register_to_config(prediction_type=kind)
    x0, eps, t = torch.randn(4, 4, 3, 3), torch.randn(4, 4, 3, 3), torch.tensor([0, 100, 600, 999])
    xt = sched.add_noise(x0, eps, t)
    out = {"epsilon": eps, "v_prediction": sched.get_velocity(x0, eps, t), "sample": x0}[kind]
    assert torch.allclose(estimate_x0(sched, xt, out, t), x0, atol=2e-3 if kind == "epsilon" else 1e-4)
    sched.register_to_config(prediction_type="epsilon")


def test_timesteps_stay_in_the_requested_range():
    sched = shifted_ddpm(scale=8.0)
    g = torch.Generator().manual_seed(0)
    t = sample_timesteps(sched, 500, 0.2, 0.4, g)
    assert int(t.min()) >= 200 and int(t.max()) <= 400 and len(set(t.tolist())) > 50
