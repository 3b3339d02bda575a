"""Structure scores (silhouette IoU, edge F-score, patch similarity): see :mod:`photo3d.eval.metrics.structure`.

Kept so that ``photo3d.structure`` names resolve; the definitions live in
:mod:`photo3d.eval.metrics.structure` (scores) and :mod:`photo3d.imaging.masks` (the foreground
rule). ``WHITE_THRESHOLD`` is the silhouette tolerance under its former name.
"""

from __future__ import annotations

from photo3d.eval.metrics.structure import (
    EDGE_TOLERANCE,
    edge_fscore,
    edge_map,
    patch_similarity,
    silhouette_iou,
    structure_scores,
)
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE, foreground_mask

WHITE_THRESHOLD = SILHOUETTE_WHITE_TOLERANCE  # former name (a distance from white, as before)

__all__ = [
    "EDGE_TOLERANCE",
    "WHITE_THRESHOLD",
    "edge_fscore",
    "edge_map",
    "foreground_mask",
    "patch_similarity",
    "silhouette_iou",
    "structure_scores",
]
