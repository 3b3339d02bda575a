"""Structure verification: does an edited grid keep the render's geometry, view by view?

The scores are those of :mod:`photo3d.eval.metrics.structure` (silhouette IoU, edge F-score and, with an
encoder, patch-feature similarity), each comparing an edited view with the render it came from;
the evaluation reports the very same scores. A view passes when every enabled score reaches its
threshold; a grid passes when all views do. Photometric edits (contrast, saturation, tone, fine
texture) keep all three high.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from photo3d.eval.metrics.structure import structure_scores
from photo3d.grid import split_grid
from photo3d.imaging.resample import resize


@dataclass
class Verification:
    """Verification of one edited grid.

    Attributes:
        accepted: all views passed.
        views: per view ``{"iou", "edge_f", "feature_sim"?}`` (rounded to 4 decimals).
        failed_checks: ``"view<i>:<score>"`` for each score below its threshold.
    """

    accepted: bool
    views: list[dict[str, float]] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "views": self.views, "failed_checks": self.failed_checks}


def verify_structure(render: torch.Tensor, edited: torch.Tensor, cfg: Any, encoder: Any = None,
                     rows: int = 2, cols: int = 2) -> Verification:
    """Compare an edited grid with its render, view by view.

    Args:
        render: ``[3, H, W]`` render grid in [0, 1].
        edited: ``[3, H', W']`` edited grid (resized to ``H x W`` when its size differs).
        cfg: a :class:`~photo3d.data.config.VerifyConfig` (thresholds, tolerance, white threshold).
        encoder: optional patch-token encoder for the feature score.

    Returns:
        :class:`Verification`.
    """
    edited = resize(edited[None], tuple(render.shape[-2:]))[0]
    return verify_views(split_grid(render, rows, cols), split_grid(edited, rows, cols), cfg, encoder)


def verify_views(renders: torch.Tensor, edited: torch.Tensor, cfg: Any, encoder: Any = None) -> Verification:
    """Compare edited views with the renders they should keep the structure of, view by view.

    The builder's check of an edit (:func:`verify_structure`) is this function with the thresholds
    of :class:`~photo3d.data.config.VerifyConfig`. ``photo3d enhance``'s check of its reference
    views (:mod:`photo3d.enhance.reference_check`) uses the same scores and IoU threshold but also
    passes edges on recall, since its references add detail by design.

    Args:
        renders: ``[V, 3, H, W]`` renders in [0, 1] on white.
        edited: ``[V, 3, H, W]`` the edited (reference) views, same size.
        cfg: a :class:`~photo3d.data.config.VerifyConfig`.
        encoder: optional patch-token encoder for the feature score.

    Returns:
        :class:`Verification`.
    """
    scores_t = structure_scores(renders, edited, cfg.white_tolerance, cfg.edge_tolerance, encoder)
    views, failed = [], []
    for i in range(len(renders)):
        scores = {k: round(float(v[i]), 4) for k, v in scores_t.items()}
        views.append(scores)
        failed += [f"view{i}:{name}" for name in failed_scores(scores, cfg)]
    return Verification(accepted=not failed, views=views, failed_checks=failed)


def failed_scores(scores: dict[str, float], cfg: Any) -> list[str]:
    """Names of the scores of one view below their thresholds in ``cfg`` (``iou``, ``edge_f``, ``feature_sim``)."""
    limits = {"iou": cfg.min_iou, "edge_f": cfg.min_edge_f, "feature_sim": cfg.min_feature_sim}
    return [name for name, limit in limits.items() if name in scores and scores[name] < limit]
