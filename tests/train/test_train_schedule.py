"""Learning-rate schedules and optimiser betas of the shared loop."""

from __future__ import annotations

import pytest
import torch

from photo3d.train.config import TrainConfig
from photo3d.train.loop import make_scheduler


def _run(cfg: TrainConfig, steps: int):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=cfg.lr, betas=cfg.adam_betas)
    sched = make_scheduler(opt, cfg)
    lrs, beta1 = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        beta1.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step()
    return lrs, beta1


def test_warmup_schedule_is_linear_then_constant():
    lrs, beta1 = _run(TrainConfig(lr=1.0, warmup_steps=4, steps=8), 8)
    assert lrs == pytest.approx([0.25, 0.5, 0.75, 1, 1, 1, 1, 1]) and set(beta1) == {0.9}


def test_onecycle_rises_over_the_warmup_then_anneals_and_cycles_beta1():
    cfg = TrainConfig(lr=1e-4, steps=100, warmup_steps=10, lr_schedule="onecycle", adam_betas=(0.9, 0.95))
    lrs, beta1 = _run(cfg, 100)
    assert lrs[0] == pytest.approx(1e-4 / 25) and max(lrs) == pytest.approx(1e-4) and lrs.index(max(lrs)) == 9
    assert lrs[-1] < 1e-4 / 25 / 100 and all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert beta1[0] == pytest.approx(0.95) and beta1[9] == pytest.approx(0.85) and beta1[-1] > 0.949
    _, flat = _run(TrainConfig(lr=1e-4, steps=20, lr_schedule="onecycle", cycle_momentum=False,
                               adam_betas=(0.9, 0.95)), 20)
    assert set(flat) == {0.9}


def test_onecycle_works_for_very_short_runs_and_betas_are_checked():
    for steps in (1, 2, 3):
        lrs, _ = _run(TrainConfig(lr=1.0, steps=steps, lr_schedule="onecycle", warmup_steps=10), steps)
        assert len(lrs) == steps and all(0 < x <= 1.0 for x in lrs)
    with pytest.raises(ValueError, match="adam_betas"):  # ConfigError is a ValueError
        TrainConfig(adam_betas=(0.9, 1.5))
