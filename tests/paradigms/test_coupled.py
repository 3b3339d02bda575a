"""The coupled paradigm: flow maths, the strategy's step, CFG dropout, joint decoder training."""

from __future__ import annotations

import pytest
import torch

from photo3d.paradigms import Paradigm
from photo3d.paradigms.coupled import CoupledConfig
from photo3d.paradigms.coupled.flow import diffuse, estimate_x0, euler_sample, sample_t
from photo3d.paradigms.coupled.strategy import CoupledStrategy
from photo3d.train.dataset import Photo3DMVDataset


def test_both_x0_estimates_recover_x0_from_the_exact_velocity():
    x0, eps = torch.randn(50, 8, dtype=torch.float64), torch.randn(50, 8, dtype=torch.float64)
    s = 1e-5
    v = (1 - s) * eps - x0  # d x_t / d t
    for t in (0.1, 0.5, 0.9):
        xt = diffuse(x0, eps, t, s)
        for mode in ("paper", "released"):
            assert torch.allclose(estimate_x0(xt, eps, v, t, mode), x0 + s * eps, atol=1e-12)
    wrong_v = v + 1.0  # with an inexact v the two estimates differ by (1 - t) * error
    xt = diffuse(x0, eps, 0.3, s)
    gap = estimate_x0(xt, eps, wrong_v, 0.3, "paper") - estimate_x0(xt, eps, wrong_v, 0.3, "released")
    assert torch.allclose(gap, torch.full_like(gap, 0.7), atol=1e-9)
    with pytest.raises(ValueError):
        estimate_x0(xt, eps, v, 0.3, "other")


def test_timestep_distributions():
    g = torch.Generator().manual_seed(0)
    ln = torch.tensor([sample_t(CoupledConfig(), g) for _ in range(2000)])
    un = torch.tensor([sample_t(CoupledConfig(timesteps="uniform"), g) for _ in range(2000)])
    assert abs(float(ln.median()) - float(torch.sigmoid(torch.tensor(1.0)))) < 0.03  # logit-normal(1, 1)
    assert abs(float(un.mean()) - 0.5) < 0.03 and float(un.min()) >= 0.0
    clipped = [sample_t(CoupledConfig(t_min=0.2, t_max=0.4), g) for _ in range(200)]
    assert min(clipped) >= 0.2 and max(clipped) <= 0.4


def test_euler_sampler_integrates_the_exact_flow():
    x0 = torch.randn(20, 8, dtype=torch.float64)

    def velocity(x, t):  # straight paths to x0 (sigma_min = 0): v = (x - x0) / t
        return (x - x0) / t if t > 0 else x - x0

    g = torch.Generator().manual_seed(3)
    out = euler_sample(velocity, (20, 8), 5, g, torch.device("cpu"), sigma_min=0.0)
    assert torch.allclose(out.double(), x0, atol=1e-5)


def test_strategy_step_shapes_and_gradients(mv_tiny, make_paradigm):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    for train_decoder in (False, True):
        par = make_paradigm(train_decoder=train_decoder)
        assert isinstance(par, Paradigm)
        assert set(par.trainable_modules()) == ({"flow", "decoder"} if train_decoder else {"flow"})
        state = par.init_state(0)
        views, aux = par.step([ds[0], ds[1]], state)
        assert views.shape == (8, 3, 32, 32) and aux["targets"].shape == (8, 3, 32, 32)
        assert 0.0 <= float(views.detach().min()) and float(views.detach().max()) <= 1.0
        assert (views < 0.99).any()  # the object is visible, not only background
        (views - aux["targets"]).square().mean().backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in par.model.flow.parameters())
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in par.model.decoder.parameters())


def test_same_state_seed_gives_the_same_step(mv_tiny, make_paradigm):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    par = make_paradigm()
    a, _ = par.step([ds[0]], par.init_state(5))
    b, _ = par.step([ds[0]], par.init_state(5))
    c, _ = par.step([ds[0]], par.init_state(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


class _Spy:
    """A CoupledModel double that records the conditions it receives."""

    def __init__(self):
        self.flow, self.decoder = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
        self.conds = []

    def latent(self, sample):
        return torch.zeros(3, 8), torch.zeros(3, 3, dtype=torch.long)

    def condition(self, image):
        self.conds.append(image)
        return image

    def velocity(self, x_t, coords, t, cond):
        return x_t * self.flow.weight

    def decode(self, x0, coords):
        from photo3d.gaussians import Gaussians

        return Gaussians.from_points(torch.zeros(1, 3), torch.full((1, 3), 0.5))


def test_cfg_dropout_zeroes_the_condition_at_the_configured_rate():
    spy = _Spy()
    from photo3d.cameras import rig_cameras

    sample = {"id": "x", "target": torch.rand(4, 3, 8, 8), "cameras": rig_cameras(8)}
    strat = CoupledStrategy(spy, CoupledConfig(cfg_dropout=0.3))
    state = strat.init_state(0)
    for _ in range(300):
        strat.step([sample], state)
    dropped = sum(c is None for c in spy.conds) / len(spy.conds)
    assert 0.2 < dropped < 0.4
    kept = [c for c in spy.conds if c is not None]
    assert all(any(torch.equal(c, v) for v in sample["target"]) for c in kept[:20])  # one edited view
