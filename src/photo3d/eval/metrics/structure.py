"""Structure consistency between an item's rig renders and its reference views.

Detail enhancement must keep the structure: the silhouette and the main edges of the renders
should line up with the reference grid. Two closed-form measures, no model:

* **silhouette IoU**: foreground masks (alpha, or non-white pixels on the rig's white
  background) intersected over union, per view, averaged.
* **edge alignment**: Sobel edge maps (magnitude above a fraction of the view's maximum), then an
  F-score where an edge pixel counts as matched when the other image has an edge within
  ``tol_px`` pixels (max-pool dilation). Symmetric, in [0, 1].

When :mod:`photo3d.data.verify` (the builder's structure checks) is installed these stay the
evaluation's own definitions, so evaluation numbers never change with the builder's thresholds.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from photo3d.eval.metrics.base import EvalItem, Metric, foreground_mask, unavailable
from photo3d.eval.metrics.fidelity import paired_views

IOU_DEF = (
    "silhouette IoU per rig view: |A and B| / |A or B| of foreground masks (alpha > 0.5, or any "
    "channel < 0.98 on the white background), mean over views; 1 when both are empty"
)
EDGE_DEF = (
    "edge-alignment F-score per rig view: Sobel magnitude of grey images > 0.2 x view max; precision/"
    "recall = share of edge pixels within 2 px of an edge in the other image; mean F over views"
)


def silhouette_iou(mask_a: torch.Tensor, mask_b: torch.Tensor) -> torch.Tensor:
    """Per-view IoU of boolean masks.

    Args:
        mask_a, mask_b: ``[V, 1, H, W]`` bool.

    Returns:
        ``[V]`` IoU in [0, 1] (1 where both masks are empty).
    """
    inter = (mask_a & mask_b).flatten(1).sum(1).double()
    union = (mask_a | mask_b).flatten(1).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def edge_map(views: torch.Tensor, rel_threshold: float = 0.2) -> torch.Tensor:
    """Sobel edges of ``[V, 3, H, W]`` images -> ``[V, 1, H, W]`` bool."""
    grey = views.float().mean(1, keepdim=True)
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).view(1, 1, 3, 3)
    padded = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    gx, gy = F.conv2d(padded, kx), F.conv2d(padded, kx.transpose(-1, -2))
    mag = torch.sqrt(gx.square() + gy.square())
    peak = mag.flatten(1).amax(1).view(-1, 1, 1, 1)
    return (mag > rel_threshold * peak) & (peak > 1e-6)


def edge_alignment(pred: torch.Tensor, target: torch.Tensor, tol_px: int = 2) -> torch.Tensor:
    """Symmetric edge F-score with a pixel tolerance.

    Args:
        pred, target: ``[V, 3, H, W]`` in [0, 1].
        tol_px: matching radius in pixels.

    Returns:
        ``[V]`` F-score in [0, 1] (1 where neither image has edges).
    """
    ea, eb = edge_map(pred), edge_map(target)
    k = 2 * tol_px + 1
    near_a = F.max_pool2d(ea.float(), k, stride=1, padding=tol_px) > 0
    near_b = F.max_pool2d(eb.float(), k, stride=1, padding=tol_px) > 0
    na, nb = ea.flatten(1).sum(1).double(), eb.flatten(1).sum(1).double()
    precision = (ea & near_b).flatten(1).sum(1).double() / na.clamp_min(1)
    recall = (eb & near_a).flatten(1).sum(1).double() / nb.clamp_min(1)
    f = 2 * precision * recall / (precision + recall).clamp_min(1e-12)
    both_empty = (na == 0) & (nb == 0)
    return torch.where(both_empty, torch.ones_like(f), f)


def _iou_item(item: EvalItem):
    pair = paired_views(item)
    if pair is None:
        return unavailable("no ground-truth views for this item")
    pred, gt = pair
    alpha = (
        item.alpha[: len(pred)] if item.alpha is not None and item.alpha.shape[-2:] == gt.shape[-2:] else None
    )
    return float(silhouette_iou(foreground_mask(pred, alpha), foreground_mask(gt)).mean())


def _edge_item(item: EvalItem):
    pair = paired_views(item)
    return (
        unavailable("no ground-truth views for this item")
        if pair is None
        else float(edge_alignment(*pair).mean())
    )


def structure_metrics() -> list[Metric]:
    """Silhouette IoU and edge alignment as :class:`Metric` objects."""
    return [
        Metric("silhouette_iou", IOU_DEF, "none (closed form)", True, _iou_item),
        Metric("edge_f", EDGE_DEF, "none (closed form, Sobel)", True, _edge_item),
    ]
