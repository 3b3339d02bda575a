"""L_match: zero on identical views, masking, empty masks, gradients, both rules."""

from __future__ import annotations

import pytest
import torch

from photo3d.encoders.testing import TinyConvEncoder
from photo3d.losses import MatchLoss, match_loss
from photo3d.imaging import foreground_mask
from photo3d.losses.match import match_loss_from_tokens, token_mask


@pytest.fixture(scope="module")
def enc():
    return TinyConvEncoder()


def _object_on_white(n=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.ones(n, 3, size, size)
    x[:, :, 8:24, 8:24] = torch.rand(n, 3, 16, 16, generator=g) * 0.8
    return x


@pytest.mark.parametrize("rule", ["nn", "greedy"])
@pytest.mark.parametrize("mask_background", [True, False])
def test_identical_views_give_zero(enc, rule, mask_background):
    x = _object_on_white()
    loss = match_loss(x, x.clone(), enc, size=32, rule=rule, mask_background=mask_background)
    assert float(loss) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("rule", ["nn", "greedy"])
def test_token_permutation_invariance(rule):
    g = torch.Generator().manual_seed(0)
    p = torch.randn(2, 20, 8, generator=g)
    t = p[:, torch.randperm(20, generator=g)]
    assert float(match_loss_from_tokens(p, t, rule)) == pytest.approx(0.0, abs=1e-6)
    assert float(match_loss_from_tokens(p, torch.randn(2, 20, 8, generator=g), rule)) > 0.1


def test_nn_known_value():
    p = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    t = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    # nn: row 0 -> 1, row 1 -> 0: 1 - 0.5; greedy: one pair (1.0) and the other forced (0.0).
    assert float(match_loss_from_tokens(p, t, "nn")) == pytest.approx(0.5)
    assert float(match_loss_from_tokens(p, t, "greedy")) == pytest.approx(0.5)
    t2 = torch.tensor([[[1.0, 0.0], [0.6, 0.8]]])
    assert float(match_loss_from_tokens(p, t2, "nn")) == pytest.approx(1 - (1.0 + 0.8) / 2)


@pytest.mark.parametrize("rule", ["nn", "greedy"])
def test_masked_loss_ignores_background(enc, rule):
    x = _object_on_white(seed=1)
    y = _object_on_white(seed=2)
    base = match_loss(x, y, enc, size=32, rule=rule)
    # Change the (white) background of the target slightly: still background (> 250/255).
    y2 = y.clone()
    y2[:, :, :4, :] = 0.99
    same = match_loss(x, y2, enc, size=32, rule=rule)
    torch.testing.assert_close(same, base)
    unmasked = match_loss(x, y, enc, size=32, rule=rule, mask_background=False)
    unmasked2 = match_loss(x, y2, enc, size=32, rule=rule, mask_background=False)
    assert float((unmasked - unmasked2).abs()) > 1e-6  # the change is visible without the mask


def test_explicit_mask_overrides_white_rule(enc):
    x = torch.rand(1, 3, 32, 32)
    y = torch.rand(1, 3, 32, 32)
    m = torch.zeros(1, 1, 32, 32)
    m[..., :16, :] = 1
    base = match_loss(x, y, enc, size=32, mask=m)
    y2 = y.clone()
    y2[..., 16:, :] = torch.rand(1, 3, 16, 32)
    torch.testing.assert_close(match_loss(x, y2, enc, size=32, mask=m), base)


def test_empty_mask_gives_one_with_warning(enc):
    x = _object_on_white(n=2)
    y = x.clone()
    y[1] = 1.0  # second target view is all white
    with pytest.warns(UserWarning, match="view 1"):
        per = match_loss(x.requires_grad_(), y, enc, size=32, reduction="none")
    assert per[1].item() == 1.0 and per[0].item() == pytest.approx(0.0, abs=1e-5)
    per.sum().backward()  # the constant view keeps a (zero) graph


@pytest.mark.parametrize("rule", ["nn", "greedy"])
def test_gradients_only_into_pred(enc, rule):
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    y = torch.rand(2, 3, 32, 32, requires_grad=True)
    match_loss(x, y, enc, size=32, rule=rule, mask_background=False).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert y.grad is None


@pytest.mark.parametrize("rule", ["nn", "greedy"])
def test_gradcheck_float64(rule):
    enc = TinyConvEncoder(dim=4).double()
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(1, 3, 12, 12, generator=g, dtype=torch.float64) * 0.8 + 0.1).requires_grad_()
    y = torch.rand(1, 3, 12, 12, generator=g, dtype=torch.float64) * 0.8 + 0.1
    fn = lambda p: match_loss(p, y, enc, size=None, rule=rule, mask_background=False)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x,), fast_mode=True)


def test_module_equals_function_and_reductions(enc):
    x, y = torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)
    mod = MatchLoss(enc, size=24, rule="greedy", mask_background=False)
    ref = match_loss(x, y, enc, size=24, rule="greedy", mask_background=False)
    torch.testing.assert_close(mod(x, y), ref)
    per = match_loss(x, y, enc, size=24, rule="greedy", mask_background=False, reduction="none")
    assert per.shape == (3,)
    torch.testing.assert_close(per.mean(), ref)
    w = torch.tensor([0.0, 1.0, 1.0])
    torch.testing.assert_close(
        match_loss(x, y, enc, size=24, mask_background=False, weights=w, rule="greedy"), per[1:].mean()
    )
    assert list(mod.parameters()) == []


def test_masks_helpers():
    x = torch.ones(1, 3, 8, 8)
    x[0, 1, 0:4, 0:4] = 0.5
    fg = foreground_mask(x)
    assert fg.sum() == 16
    assert token_mask(fg, (2, 2)).tolist() == [[True, False, False, False]]
