"""Detail metrics on held-out views: PSNR, SSIM, HF energy ratio, speckle ratio, Inception distance."""

from __future__ import annotations

import math

import pytest
import torch

from photo3d.eval.metrics import EvalItem, build_metrics
from photo3d.eval.metrics.detail import chroma, detail_metrics, hf_energy_ratio, speckle_ratio
from photo3d.imaging import gaussian_blur


def test_metrics_identical_and_blurred(textured_views):
    gt = textured_views()
    mask = (gt < 0.99).any(1, keepdim=True)
    same = detail_metrics(gt, gt, mask)
    assert math.isinf(same["psnr"]) and abs(same["ssim"] - 1) < 1e-5 and abs(same["hf_energy_ratio"] - 1) < 1e-6
    blurred = gaussian_blur(gt, 1.5)
    assert float(hf_energy_ratio(blurred, gt, mask).mean()) < 0.5
    assert detail_metrics(blurred, gt, mask)["psnr"] < 40


def test_inception_distance_with_a_tiny_encoder(textured_views):
    from photo3d.encoders import load_encoder

    enc = load_encoder("tiny-clip")
    gt = textured_views()
    mask = (gt < 0.99).any(1, keepdim=True)
    assert detail_metrics(gt, gt, mask, enc)["inception_distance"] < 1e-5
    assert detail_metrics(torch.rand_like(gt), gt, mask, enc)["inception_distance"] > 1e-4


def test_eval_reports_the_hf_energy_ratio_enhance_uses(textured_views):
    gt = textured_views(4)
    blurred = gaussian_blur(gt, 1.5)
    metric = build_metrics(["hf_energy_ratio"])[0]
    item = EvalItem("x", blurred, ["rig"] * 4, gt_views=gt)
    mask = (gt < 1 - 5 / 255).any(1, keepdim=True)
    assert metric(item) == pytest.approx(detail_metrics(blurred, gt, mask)["hf_energy_ratio"], rel=1e-6)
    assert metric.describe()["higher_is_better"] is None  # best at 1, not "higher"


def test_eval_reports_the_speckle_ratio_enhance_uses(textured_views):
    gt = textured_views(4)
    noisy = (gt + 0.05 * torch.randn(gt.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    metric = build_metrics(["speckle_ratio"])[0]
    item = EvalItem("x", noisy, ["rig"] * 4, gt_views=gt)
    mask = (gt < 1 - 5 / 255).any(1, keepdim=True)
    assert metric(item) == pytest.approx(detail_metrics(noisy, gt, mask)["speckle_ratio"], rel=1e-6)
    assert metric(item) > 1.0


# --- the speckle ratio: chroma high-frequency energy relative to the original


def _label(n: int = 2, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """A "printed label" on white: coloured blocks with sharp edges, and its foreground mask."""
    gen = torch.Generator().manual_seed(0)
    img = torch.ones(n, 3, size, size)
    blocks = torch.rand(n, 3, 8, 8, generator=gen)
    img[:, :, 8:56, 8:56] = torch.nn.functional.interpolate(blocks, size=(48, 48), mode="nearest")
    mask = torch.zeros(n, 1, size, size, dtype=torch.bool)
    mask[:, :, 8:56, 8:56] = True
    return img, mask


def test_speckle_the_original_scores_one():
    img, mask = _label()
    assert torch.allclose(speckle_ratio(img, img, mask), torch.ones(2))


def test_speckle_colour_noise_raises_it():
    img, mask = _label()
    gen = torch.Generator().manual_seed(1)
    noisy = (img + 0.02 * torch.randn(img.shape, generator=gen)).clamp(0, 1)
    very = (img + 0.05 * torch.randn(img.shape, generator=gen)).clamp(0, 1)
    r, r_very = speckle_ratio(noisy, img, mask), speckle_ratio(very, img, mask)
    assert (r > 1.03).all() and (r_very > 1.3).all() and (r_very > r).all()


def test_speckle_grey_detail_is_not_speckle_and_blur_lowers_it():
    img, mask = _label()
    gen = torch.Generator().manual_seed(2)
    grey = img + 0.05 * torch.randn(2, 1, 64, 64, generator=gen)  # the same change in R, G and B
    assert torch.allclose(chroma(grey), chroma(img), atol=1e-6)
    assert torch.allclose(speckle_ratio(grey, img, mask), torch.ones(2), atol=1e-4)
    assert (speckle_ratio(gaussian_blur(img, 1.5), img, mask) < 0.5).all()


def test_speckle_views_without_foreground_are_nan():
    img, mask = _label()
    assert torch.isnan(speckle_ratio(img, img, torch.zeros_like(mask))).all()
