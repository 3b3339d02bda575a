"""Full-reference metrics against ground-truth views: PSNR, SSIM, LPIPS.

They compare the rig views of an item with its ground-truth grid (e.g. the edited reference grid
of ``photo3d enhance``), view by view, and average over the views. Held-out views have no ground
truth and are not scored here. Scores are over the **full image** (the white background
included), the convention of the papers this project follows; when sizes differ the render is
resized to the ground truth (bilinear, antialiased). The evaluation's per-item metrics are built
from these functions by the registry in :mod:`photo3d.eval.metrics.paired`.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from photo3d._optional import is_available
from photo3d.eval.metrics.base import EvalItem
from photo3d.imaging.resample import resize

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
    return resize(pred, tuple(gt.shape[-2:])).clamp(0, 1), gt.clamp(0, 1)


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


def lpips(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image LPIPS (AlexNet v0.1) for images in [0, 1]; needs the ``lpips`` package and weights.

    Args:
        pred, target: ``[B, 3, H, W]``.

    Returns:
        ``[B]`` distances (lower is closer).
    """
    global _LPIPS_NET
    if _LPIPS_NET is None:
        import lpips as lpips_pkg  # noqa: PLC0415 - optional, checked by lpips_unavailable_reason

        _LPIPS_NET = lpips_pkg.LPIPS(net="alex", verbose=False).eval()
    with torch.no_grad():
        return _LPIPS_NET(pred * 2 - 1, target * 2 - 1).flatten(1).mean(1)
