"""Detail metrics on held-out views: PSNR, SSIM, HF energy ratio, Inception distance."""

from __future__ import annotations

import math

import pytest
import torch

from photo3d.eval.metrics import EvalItem, build_metrics
from photo3d.eval.metrics.detail import detail_metrics, hf_energy_ratio
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
