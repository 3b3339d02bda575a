"""Full-reference metrics against ground-truth views: PSNR, SSIM, LPIPS.

They compare the rig views of an item with its ground-truth grid (e.g. the edited reference grid
of ``photo3d enhance``), view by view, and average over the views. Held-out views have no ground
truth and are not scored here. Scores are over the **full image** (the white background
included), the convention of the papers this project follows; when sizes differ the render is
resized to the ground truth (bilinear, antialiased).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from photo3d._optional import is_available
from photo3d.eval.metrics.base import EvalItem, Metric, unavailable

PSNR_DEF = (
    "PSNR = 10*log10(1/MSE) per rig view vs its ground-truth view, images in [0,1], full image "
    "(background included), mean over views; inf when identical"
)
SSIM_DEF = (
    "SSIM (Wang et al. 2004; Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, data range 1) per "
    "rig view vs ground truth, full image, via torchmetrics; mean over views"
)
LPIPS_DEF = (
    "LPIPS (Zhang et al. 2018, AlexNet v0.1 linear heads) per rig view vs ground truth; mean over views"
)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [0, 1].

    Args:
        pred, target: ``[B, C, H, W]``.

    Returns:
        ``[B]`` PSNR; ``inf`` where the images are identical.
    """
    mse = (pred.double() - target.double()).square().flatten(1).mean(1)
    return torch.where(
        mse > 0, 10.0 * torch.log10(1.0 / mse.clamp_min(1e-300)), torch.full_like(mse, math.inf)
    )


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM with the standard Gaussian window (torchmetrics).

    Args:
        pred, target: ``[B, C, H, W]`` in [0, 1], at least 11x11.

    Returns:
        ``[B]`` SSIM in [-1, 1].
    """
    from torchmetrics.functional.image import structural_similarity_index_measure

    return structural_similarity_index_measure(pred.float(), target.float(), data_range=1.0, reduction="none")


def paired_views(item: EvalItem) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(renders, gt)`` for the rig views that have ground truth, both ``[R, 3, H, W]``; else ``None``."""
    if item.gt_views is None:
        return None
    r = min(item.n_rig, len(item.gt_views))
    if r == 0:
        return None
    pred, gt = item.views[:r], item.gt_views[:r]
    if pred.shape[-2:] != gt.shape[-2:]:
        pred = F.interpolate(pred, size=gt.shape[-2:], mode="bilinear", align_corners=False, antialias=True)
    return pred.clamp(0, 1), gt.clamp(0, 1)


def _psnr_item(item: EvalItem):
    pair = paired_views(item)
    return unavailable("no ground-truth views for this item") if pair is None else float(psnr(*pair).mean())


def _ssim_item(item: EvalItem):
    pair = paired_views(item)
    return unavailable("no ground-truth views for this item") if pair is None else float(ssim(*pair).mean())


def lpips_unavailable_reason() -> str | None:
    """``None`` when LPIPS can run offline, else why not (it needs pretrained AlexNet weights)."""
    if not is_available("lpips"):
        return "LPIPS needs the 'lpips' package and pretrained AlexNet weights (not installed / not available offline)"
    if not is_available("torchvision"):
        return "LPIPS needs torchvision for its AlexNet backbone (not installed)"
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    if not any(hub.glob("alexnet-*.pth")):
        return f"LPIPS needs the ImageNet AlexNet weights in {hub} (not present; no download is attempted)"
    return None


_LPIPS_NET = None


def _lpips_item(item: EvalItem):
    global _LPIPS_NET
    pair = paired_views(item)
    if pair is None:
        return unavailable("no ground-truth views for this item")
    if _LPIPS_NET is None:
        import lpips  # noqa: PLC0415 - optional, checked by lpips_unavailable_reason

        _LPIPS_NET = lpips.LPIPS(net="alex", verbose=False).eval()
    with torch.no_grad():
        return float(_LPIPS_NET(pair[0] * 2 - 1, pair[1] * 2 - 1).mean())


def fidelity_metrics() -> list[Metric]:
    """PSNR, SSIM and LPIPS as :class:`Metric` objects."""
    return [
        Metric("psnr", PSNR_DEF, "none (closed form)", True, _psnr_item),
        Metric("ssim", SSIM_DEF, "none (closed form, torchmetrics)", True, _ssim_item),
        Metric("lpips", LPIPS_DEF, "lpips AlexNet v0.1", False, _lpips_item, lpips_unavailable_reason),
    ]
