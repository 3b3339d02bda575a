import math

import pytest
import torch
from eval_helpers import object_views

from photo3d.eval.metrics import EvalItem, build_metrics, is_unavailable
from photo3d.eval.metrics.fidelity import lpips_unavailable_reason, psnr, ssim
from photo3d.eval.metrics.structure import edge_alignment, silhouette_iou


def test_psnr_hand_computed():
    a = torch.zeros(1, 3, 4, 4)
    b = torch.full((1, 3, 4, 4), 0.1)  # MSE = 0.01 -> 20 dB
    assert psnr(b, a).item() == pytest.approx(20.0, abs=1e-5)
    b[..., 0, 0] = 0.0  # MSE = 0.01 * 15/16
    assert psnr(b, a).item() == pytest.approx(10 * math.log10(1 / (0.01 * 15 / 16)), abs=1e-5)


def test_identical_gives_inf_psnr_and_unit_ssim():
    v = object_views(0)
    assert torch.isinf(psnr(v, v)).all()
    assert ssim(v, v) == pytest.approx(torch.ones(4), abs=1e-5)


def test_shift_makes_scores_worse():
    v = object_views(1)
    mild, strong = (v + 0.02).clamp(0, 1), (v + 0.2).clamp(0, 1)
    assert psnr(mild, v).mean() > psnr(strong, v).mean()
    assert ssim(mild, v).mean() > ssim(strong, v).mean()


def test_item_metrics_need_ground_truth():
    views = object_views(2)
    metrics = {m.name: m for m in build_metrics(["psnr", "ssim", "silhouette_iou", "edge_f"])}
    no_gt = EvalItem("x", views, ["rig"] * 4)
    assert all(is_unavailable(m(no_gt)) for m in metrics.values())
    with_gt = EvalItem("x", views, ["rig"] * 4, gt_views=views.clone())
    assert math.isinf(metrics["psnr"](with_gt))
    assert metrics["silhouette_iou"](with_gt) == pytest.approx(1.0)
    assert metrics["edge_f"](with_gt) == pytest.approx(1.0)


def test_held_out_views_are_not_compared_with_the_grid():
    rig, held = object_views(3), torch.rand(2, 3, 32, 32)
    item = EvalItem("x", torch.cat([rig, held]), ["rig"] * 4 + ["heldout"] * 2, gt_views=rig.clone())
    assert math.isinf(build_metrics(["psnr"])[0](item))


def test_silhouette_iou_known_value():
    a = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    b = a.clone()
    a[..., :2, :] = True  # 8 px
    b[..., 1:3, :] = True  # 8 px, overlap 4
    assert silhouette_iou(a, b).item() == pytest.approx(4 / 12)


def test_edge_alignment_drops_when_structure_moves():
    v = object_views(4)
    shifted = torch.roll(v, shifts=6, dims=-1)
    assert edge_alignment(v, v).mean() == pytest.approx(1.0)
    assert edge_alignment(shifted, v).mean() < 0.6


def test_lpips_is_unavailable_offline():
    reason = lpips_unavailable_reason()
    if reason is None:
        pytest.skip("LPIPS weights happen to be installed here")
    metric = build_metrics(["lpips"])[0]
    item = EvalItem("x", object_views(0), ["rig"] * 4, gt_views=object_views(0))
    out = metric(item)
    assert is_unavailable(out) and "LPIPS" in out["reason"]
    assert metric.describe()["status"] == "unavailable"


def test_structure_scores_are_the_builders_verification_scores():
    from photo3d.data.config import VerifyConfig
    from photo3d.data.verify import verify_structure
    from photo3d.grid import compose_grid

    render = object_views(5, size=64)
    edited = torch.roll(render, shifts=(2, 3), dims=(-2, -1)) * 0.9  # moved and darker
    edited[1] = render[1]  # one view kept as it was
    verification = verify_structure(compose_grid(render), compose_grid(edited), VerifyConfig())
    builder = {k: sum(v[k] for v in verification.views) / 4 for k in ("iou", "edge_f")}
    item = EvalItem("x", render, ["rig"] * 4, gt_views=edited)
    metrics = {m.name: m for m in build_metrics(["silhouette_iou", "edge_f"])}
    assert 0.0 < builder["iou"] < 1.0 and 0.0 < builder["edge_f"] < 1.0  # a pair that discriminates
    assert metrics["silhouette_iou"](item) == pytest.approx(builder["iou"], abs=1e-4)
    assert metrics["edge_f"](item) == pytest.approx(builder["edge_f"], abs=1e-4)
