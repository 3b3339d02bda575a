"""The optimisation loop's pieces: LevelAdam / level-SGD, balanced gradients, the view schedule,
the pixel term on registered targets, and the step timer."""

from __future__ import annotations

import pytest
import torch

from photo3d.enhance.level_adam import LevelAdam
from photo3d.enhance.objective import pack_targets, pixel_term
from photo3d.enhance.optimise import balanced_backward, make_optimizer, view_schedule
from photo3d.enhance.timing import StepTimer, TimedEncoder, split_backward


def _step(opt, p, grad):
    p.grad = grad.clone()
    opt.step()


def test_level_adam_steps_are_proportional_to_the_gradient():
    p = torch.nn.Parameter(torch.zeros(4))
    opt = LevelAdam([p], lr=0.1)
    g = torch.tensor([2.0, 0.2, 0.0, -2.0])
    _step(opt, p, g)
    step = -p.detach()
    assert torch.allclose(step / step[0], g / g[0])  # Adam would move 0.2 as far as 2.0
    assert float(step.square().mean().sqrt()) == pytest.approx(0.1, rel=1e-4)  # the RMS step is lr


def test_level_sgd_keeps_the_first_scale_and_level_adam_renormalises():
    moves = {}
    for adaptive in (True, False):
        p = torch.nn.Parameter(torch.zeros(3))
        opt = LevelAdam([p], lr=0.1, betas=(0.0, 0.0), adaptive=adaptive)  # no averaging: the effect alone
        _step(opt, p, torch.ones(3))
        before = p.detach().clone()
        _step(opt, p, 0.01 * torch.ones(3))  # the gradient shrank 100x
        moves[adaptive] = float((p.detach() - before).abs().mean())
    assert moves[False] == pytest.approx(0.001, rel=1e-3)  # level-SGD: step shrinks with the gradient
    assert moves[True] > 10 * moves[False]  # level-Adam: rescaled back toward lr


def test_make_optimizer_names():
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(make_optimizer("adam", p, 0.1), torch.optim.Adam)
    assert not make_optimizer("level-sgd", p, 0.1).param_groups[0]["adaptive"]
    with pytest.raises(ValueError, match="level-sgd"):
        make_optimizer("sgd", p, 0.1)


def test_balanced_backward_fixes_the_share_of_the_extra_term():
    p = torch.nn.Parameter(torch.zeros(8))
    opt = torch.optim.SGD([p], lr=1.0)
    x = torch.arange(8.0)
    main = (p * x).sum()  # gradient x
    extra = 1000.0 * (p * x.flip(0)).sum()  # a huge gradient in another direction
    balanced_backward(main, extra, 0.5, opt, StepTimer())
    rms = lambda t: t.square().mean().sqrt()  # noqa: E731
    expected = x + 0.5 * x.flip(0) * rms(x) / rms(x.flip(0))  # the 1000x is normalised away
    assert torch.allclose(p.grad, expected)


def test_view_schedule_skips_dropped_views_and_balances_the_rest():
    sched = view_schedule(4, 2, 9, seed=0, views=[0, 1, 3])
    used = [v for s in sched for v in s]
    assert set(used) == {0, 1, 3}
    assert max(used.count(v) for v in (0, 1, 3)) - min(used.count(v) for v in (0, 1, 3)) <= 1
    assert view_schedule(4, 0, 2, views=[1, 2]) == [[1, 2], [1, 2]]


def test_pixel_term_weights_by_confidence():
    pred = torch.zeros(1, 3, 4, 4)
    ref = torch.zeros(1, 3, 4, 4)
    ref[..., :2] = 1.0  # wrong on the left half
    conf = torch.zeros(1, 1, 4, 4)
    conf[..., 2:] = 1.0  # but only the right half is trusted
    assert float(pixel_term(pred, ref)) == pytest.approx(0.5)  # unweighted: the whole image
    assert float(pixel_term(pred, pack_targets(ref, conf))) == 0.0
    conf[..., 1] = 1.0
    assert float(pixel_term(pred, pack_targets(ref, conf))) == pytest.approx(1 / 3)
    assert float(pixel_term(pred, pack_targets(ref, conf), "l2")) == pytest.approx(1 / 3)


def test_step_timer_books_sections_and_the_backward_split():
    timer = StepTimer()
    with timer.section("render_fwd"):
        x = torch.ones(3, requires_grad=True)
        rendered = x * 2
    enc = TimedEncoder(type("E", (), {"embed": lambda self, i: i.sum(), "input_size": 7})(), timer)
    assert enc.input_size == 7
    loss = enc.embed(rendered)
    split_backward(loss, rendered, timer)
    per = timer.per_step(1)
    assert set(per) == {"render_fwd", "encoder_fwd", "encoder_bwd", "render_bwd"}
    assert torch.equal(x.grad, torch.full((3,), 2.0))


def test_hybrid_evaluates_l_real_on_every_nth_step_only():
    from photo3d.encoders.testing import TinyConvEncoder
    from photo3d.enhance.config import EnhanceConfig
    from photo3d.enhance.objective import build_objective

    enc = TinyConvEncoder()
    cfg = EnhanceConfig(loss="hybrid", real_every=3, n_crops=1, match_size=32, resolution=32, steps=6)
    objective, rec = build_objective(cfg, (enc, enc))
    pred, target = torch.rand(1, 3, 32, 32), pack_targets(torch.rand(1, 3, 32, 32), torch.ones(1, 1, 32, 32))
    with_real = ["adapt" in objective(pred, target) for _ in range(6)]
    assert with_real == [True, False, False, True, False, False] and rec["real_every"] == 3


def test_coverage_scale_equalises_sparse_texels_within_bounds():
    from photo3d.enhance.texture import coverage_scale

    cov = torch.tensor([[[4.0, 4.0, 1.0, 0.0, 4.0, 0.01]]])
    scale = coverage_scale(cov, max_gain=8.0)
    assert torch.allclose(scale[0, 0, :3], torch.tensor([1.0, 1.0, 4.0]))  # median coverage 4
    assert scale[0, 0, 3] == 1.0 and scale[0, 0, 5] == 8.0  # unseen: untouched; nearly unseen: capped
