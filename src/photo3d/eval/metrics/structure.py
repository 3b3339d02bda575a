"""Structure consistency between an item's rig renders and its reference views.

Detail enhancement must keep the structure: the silhouette and the main edges of the renders
should line up with the reference grid. The scores are the dataset builder's verification scores
(:mod:`photo3d.structure`), so an evaluation reports exactly what the builder's structure check
measured on the same pair of views; closed form, no model:

* **silhouette IoU**: foreground masks (non-white pixels on the rig's white background, speckles
  and pin-holes removed) intersected over union, per view, averaged.
* **edge F-score**: thin Sobel edges of the blurred luminance; an edge pixel counts as matched
  when the other image has an edge within 2 px (at 512 px per view, scaled with the view size).
  Symmetric, in [0, 1].

The builder's thresholds (what it accepts) play no part here: only its scores are shared.
"""

from __future__ import annotations

from functools import partial

import torch

from photo3d.eval.metrics.base import EvalItem, Metric, unavailable
from photo3d.eval.metrics.fidelity import paired_views
from photo3d.structure import EDGE_TOLERANCE, WHITE_THRESHOLD, silhouette_iou, structure_scores

IOU_DEF = (
    "silhouette IoU per rig view (the dataset builder's verification score): |A and B| / |A or B| of "
    f"foreground masks (any channel more than {WHITE_THRESHOLD} below white, opened then closed with "
    "radius max(1, round(W/256))), mean over views; 1 when both are empty"
)
EDGE_DEF = (
    "edge F-score per rig view (the dataset builder's verification score): thin edges = Sobel magnitude "
    "of the 3x3-blurred luminance > 0.15 with non-maximum suppression; precision/recall = share of edge "
    f"pixels within max(1, round({EDGE_TOLERANCE}*W/512)) px of an edge in the other image; mean F over views"
)

__all__ = ["EDGE_DEF", "IOU_DEF", "edge_alignment", "silhouette_iou", "structure_metrics"]


def edge_alignment(pred: torch.Tensor, target: torch.Tensor,
                   tol_px: int = EDGE_TOLERANCE) -> torch.Tensor:
    """Symmetric edge F-score of two sets of views (the builder's ``edge_f`` score).

    Args:
        pred, target: ``[V, 3, H, W]`` in [0, 1], same size.
        tol_px: matching radius in pixels at 512 px per view (scaled with the view size).

    Returns:
        ``[V]`` F-score in [0, 1] (1 where neither image has edges).
    """
    return structure_scores(target, pred, edge_tolerance=tol_px)["edge_f"]


def _score_item(item: EvalItem, key: str):
    pair = paired_views(item)
    if pair is None:
        return unavailable("no ground-truth views for this item")
    pred, gt = pair
    return float(structure_scores(gt, pred)[key].mean())


def structure_metrics() -> list[Metric]:
    """Silhouette IoU and edge F-score as :class:`Metric` objects."""
    return [
        Metric("silhouette_iou", IOU_DEF, "none (closed form)", True, partial(_score_item, key="iou")),
        Metric("edge_f", EDGE_DEF, "none (closed form, Sobel)", True, partial(_score_item, key="edge_f")),
    ]
