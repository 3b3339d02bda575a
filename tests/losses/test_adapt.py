"""L_adapt: crops, zero on identical views, gradients, module == function."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from photo3d.encoders.testing import TinyConvEncoder
from photo3d.losses import AdaptLoss, adapt_loss, sample_crop_boxes
from photo3d.losses.adapt import adapt_loss_from_embeddings
from photo3d.losses.crops import crop_resize


@pytest.fixture(scope="module")
def enc():
    return TinyConvEncoder()


def test_boxes_seeded_and_in_bounds():
    a = sample_crop_boxes(3, 40, 56, 8, (0.3, 0.8), 8, torch.Generator().manual_seed(5))
    b = sample_crop_boxes(3, 40, 56, 8, (0.3, 0.8), 8, torch.Generator().manual_seed(5))
    c = sample_crop_boxes(3, 40, 56, 8, (0.3, 0.8), 8, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    top, left, side = a.unbind(-1)
    assert (side >= 8).all() and (side <= int(0.8 * 40)).all()
    assert (top >= 0).all() and (top + side <= 40).all()
    assert (left >= 0).all() and (left + side <= 56).all()


def test_min_crop_clamps_small_scales():
    boxes = sample_crop_boxes(1, 100, 100, 20, (0.05, 0.1), 32)
    assert (boxes[..., 2] == 32).all()


def test_crop_resize_matches_interpolate():
    x = torch.rand(2, 3, 30, 26)
    boxes = sample_crop_boxes(2, 30, 26, 4, (0.2, 1.0), 4, torch.Generator().manual_seed(1))
    out = crop_resize(x, boxes, 17)
    for n in range(2):
        for k in range(4):
            t, l, s = boxes[n, k].tolist()
            ref = F.interpolate(x[n : n + 1, :, t : t + s, l : l + s], size=(17, 17), mode="bilinear", align_corners=False)
            torch.testing.assert_close(out[n * 4 + k], ref[0], atol=1e-5, rtol=0)


def test_identical_views_give_zero(enc):
    x = torch.rand(2, 3, 32, 32)
    assert float(adapt_loss(x, x.clone(), enc, n_crops=3, min_crop=8)) == pytest.approx(0.0, abs=1e-6)


def test_different_views_give_positive_loss(enc):
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    assert float(adapt_loss(x, y, enc, n_crops=3, min_crop=8)) > 1e-4


def test_gradients_only_into_pred(enc):
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    y = torch.rand(2, 3, 32, 32, requires_grad=True)
    adapt_loss(x, y, enc, n_crops=3, min_crop=8).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert y.grad is None


def test_gradcheck_float64():
    enc = TinyConvEncoder(dim=4).double()
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(1, 3, 12, 12, generator=g, dtype=torch.float64) * 0.8 + 0.1).requires_grad_()
    y = torch.rand(1, 3, 12, 12, generator=g, dtype=torch.float64) * 0.8 + 0.1
    boxes = torch.tensor([[[0, 2, 9], [3, 1, 7]]])
    assert torch.autograd.gradcheck(
        lambda p: adapt_loss(p, y, enc, boxes=boxes, input_size=8), (x,), fast_mode=True
    )


def test_module_equals_function_and_seeded(enc):
    x, y = torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)
    mod = AdaptLoss(enc, n_crops=4, crop_scale=(0.3, 0.8), min_crop=8)
    a = mod(x, y, generator=torch.Generator().manual_seed(2))
    b = adapt_loss(x, y, enc, n_crops=4, crop_scale=(0.3, 0.8), min_crop=8, generator=torch.Generator().manual_seed(2))
    c = adapt_loss(x, y, enc, n_crops=4, crop_scale=(0.3, 0.8), min_crop=8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert list(mod.parameters()) == [] and mod.state_dict() == {}


def test_reductions_and_weights(enc):
    x, y = torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)
    boxes = sample_crop_boxes(3, 32, 32, 4, min_size=8)
    per = adapt_loss(x, y, enc, boxes=boxes, reduction="none")
    assert per.shape == (3, 4)
    torch.testing.assert_close(adapt_loss(x, y, enc, boxes=boxes), per.mean())
    torch.testing.assert_close(adapt_loss(x, y, enc, boxes=boxes, reduction="sum"), per.sum())
    w = torch.tensor([1.0, 0.0, 3.0])
    expected = (per.mean(1) * w).sum() / w.sum()
    torch.testing.assert_close(adapt_loss(x, y, enc, boxes=boxes, weights=w), expected)


def test_from_embeddings_known_value():
    p = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    t = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert adapt_loss_from_embeddings(p, t, reduction="none").tolist() == [1.0, 0.0]
