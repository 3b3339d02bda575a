"""The demo's degradation, editor drift and detail metrics."""

from __future__ import annotations

import math

import torch

from photo3d.enhance.degrade import PlasticDegradation, gaussian_blur, plastic_degrade
from photo3d.enhance.metrics import detail_metrics, hf_energy_ratio, high_pass
from photo3d.enhance.warps import EditorDrift, editor_drift


def _textured_views(n=2, size=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    img = torch.ones(n, 3, size, size)
    img[:, :, 16:48, 16:48] = 0.2 + 0.6 * torch.rand(n, 3, 32, 32, generator=gen)
    return img


def test_plastic_degrade_removes_detail_and_colour():
    tex = torch.rand(3, 64, 64)
    out = plastic_degrade(tex, PlasticDegradation(blur_sigma=16.0))  # 1 texel at 64 px
    assert out.shape == tex.shape and out.min() >= 0 and out.max() <= 1
    assert high_pass(out[None]).square().mean() < 0.3 * high_pass(tex[None]).square().mean()
    sat = lambda x: (x.max(0).values - x.min(0).values).mean()  # noqa: E731
    assert sat(out) < sat(tex)


def test_plastic_degrade_keeps_alpha():
    tex = torch.rand(4, 32, 32)
    assert torch.equal(plastic_degrade(tex)[3], tex[3])


def test_gaussian_blur_preserves_constants():
    x = torch.full((1, 3, 20, 20), 0.3)
    assert torch.allclose(gaussian_blur(x, 2.0), x, atol=1e-6)


def test_editor_drift_is_deterministic_small_and_keeps_background():
    views = _textured_views()
    a = editor_drift(views, seed=3)
    b = editor_drift(views, seed=3)
    c = editor_drift(views, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a, views)
    assert (a[:, :, :4, :4] == 1.0).all()  # far corners stay white
    fg_in = (views < 0.98).any(1).float().mean()
    fg_out = (a < 0.98).any(1).float().mean()
    assert abs(float(fg_in - fg_out)) < 0.05  # the object stays where it was, roughly


def test_editor_drift_without_drift_is_identity():
    views = _textured_views()
    still = EditorDrift(max_displacement=0, rotation_deg=0, scale=0, shift=0, gain=0, offset=0)
    assert torch.allclose(editor_drift(views, still), views, atol=1e-5)


def test_metrics_identical_and_blurred():
    gt = _textured_views()
    mask = (gt < 0.99).any(1, keepdim=True)
    same = detail_metrics(gt, gt, mask)
    assert math.isinf(same["psnr"]) and abs(same["ssim"] - 1) < 1e-5 and abs(same["hf_energy_ratio"] - 1) < 1e-6
    blurred = gaussian_blur(gt, 1.5)
    assert float(hf_energy_ratio(blurred, gt, mask).mean()) < 0.5
    assert detail_metrics(blurred, gt, mask)["psnr"] < 40


def test_inception_distance_with_a_tiny_encoder():
    from photo3d.encoders import load_encoder

    enc = load_encoder("tiny-clip")
    gt = _textured_views()
    mask = (gt < 0.99).any(1, keepdim=True)
    assert detail_metrics(gt, gt, mask, enc)["inception_distance"] < 1e-5
    assert detail_metrics(torch.rand_like(gt), gt, mask, enc)["inception_distance"] > 1e-4
