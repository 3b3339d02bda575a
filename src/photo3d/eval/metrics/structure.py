"""Structure scores: does an image keep another image's geometry, view by view?

One definition serves the dataset builder (which accepts or rejects an edited grid,
:mod:`photo3d.data.verify`) and the evaluation (which reports how well renders keep the structure
of their reference views), so both give the same numbers for the same pair of views. Three scores
per view, closed form except the optional third:

* **silhouette IoU** of the foreground masks (:func:`photo3d.imaging.foreground_mask` with the
  silhouette tolerance: foreground = some channel more than 0.06 below white; an opening then a
  closing removes speckles and pin-holes). Catches moved, rescaled or re-posed objects and
  added/removed parts.
* **edge F-score**: edges are thresholded Sobel magnitudes of the 3x3-blurred luminance; an edge
  pixel of one image counts as matched when the other image has an edge within ``tolerance``
  pixels (precision, recall, F1). Catches mirrored views (symmetric silhouettes, asymmetric
  labels) and shifts that IoU alone forgives on large objects. Its recall alone (the share of
  the reference's edges the candidate keeps) tolerates added detail: ``photo3d enhance``'s
  reference check uses it, since its references add detail to the render by design.
* **patch-feature similarity** (optional): mean cosine of co-located encoder patch tokens
  (e.g. DINO), over the reference's foreground patches.

Photometric edits (contrast, saturation, tone, fine texture) keep all three high. The builder's
thresholds (what it accepts) live in its config; only the scores are shared.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from photo3d.imaging.color import luminance
from photo3d.imaging.filters import binomial_blur, sobel
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE, foreground_mask
from photo3d.imaging.morphology import dilate

EDGE_TOLERANCE = 2  # px at 512 px per view
EDGE_THRESHOLD = 0.15  # minimum Sobel magnitude of an edge (a unit step gives 1)

IOU_DEF = (
    "silhouette IoU per rig view (the dataset builder's verification score): |A and B| / |A or B| of "
    f"foreground masks (some channel more than {SILHOUETTE_WHITE_TOLERANCE} below white, opened then closed "
    "with radius max(1, round(W/256))), mean over views; 1 when both are empty"
)
EDGE_DEF = (
    "edge F-score per rig view (the dataset builder's verification score): thin edges = Sobel magnitude "
    f"of the 3x3-blurred Rec. 709 luminance > {EDGE_THRESHOLD} with non-maximum suppression; precision/recall "
    f"= share of edge pixels within max(1, round({EDGE_TOLERANCE}*W/512)) px of an edge in the other image; "
    "mean F over views"
)


def silhouette_iou(mask_a: torch.Tensor, mask_b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of two masks.

    Args:
        mask_a, mask_b: ``[B, 1, H, W]`` bool.

    Returns:
        ``[B]`` IoU in [0, 1] (1 where both masks are empty).
    """
    inter = (mask_a & mask_b).flatten(1).sum(1).float()
    union = (mask_a | mask_b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def edge_map(images: torch.Tensor, threshold: float = EDGE_THRESHOLD) -> torch.Tensor:
    """Thin edges of the 3x3-blurred luminance.

    Sobel magnitude (a unit step gives 1) above ``threshold``, kept only where it is a local
    maximum across the edge (non-maximum suppression along the dominant gradient axis): thin
    edges make the F-score sensitive to mirrored and shifted content.

    Args:
        images: ``[B, 3, H, W]`` in [0, 1].
        threshold: minimum Sobel magnitude of an edge.

    Returns:
        ``[B, 1, H, W]`` bool.
    """
    gx, gy = sobel(binomial_blur(luminance(images)))
    mag = (gx * gx + gy * gy).sqrt()
    p = F.pad(mag, (1, 1, 1, 1), mode="replicate")
    along_x = (mag >= p[..., 1:-1, :-2]) & (mag >= p[..., 1:-1, 2:])
    along_y = (mag >= p[..., :-2, 1:-1]) & (mag >= p[..., 2:, 1:-1])
    nms = torch.where(gx.abs() >= gy.abs(), along_x, along_y)
    return (mag > threshold) & nms


def edge_fscore(edges_a: torch.Tensor, edges_b: torch.Tensor, tolerance: int = EDGE_TOLERANCE) -> torch.Tensor:
    """F1 of edge pixels matched within ``tolerance`` px (symmetric in its arguments).

    Args:
        edges_a, edges_b: ``[B, 1, H, W]`` bool edge maps.
        tolerance: matching radius in pixels.

    Returns:
        ``[B]`` F-score in [0, 1] (1 where both maps are empty).
    """
    precision, recall = edge_recall(edges_b, edges_a, tolerance), edge_recall(edges_a, edges_b, tolerance)
    f = 2 * precision * recall / (precision + recall).clamp_min(1e-8)
    both_empty = ~edges_a.flatten(1).any(1) & ~edges_b.flatten(1).any(1)
    return torch.where(both_empty, torch.ones_like(f), f)


def edge_recall(edges_ref: torch.Tensor, edges: torch.Tensor, tolerance: int = EDGE_TOLERANCE) -> torch.Tensor:
    """Share of the edge pixels of ``edges_ref`` with an edge of ``edges`` within ``tolerance`` px.

    Not symmetric: an image that keeps every edge of the reference and adds its own (an edit that
    adds detail) has recall 1 and a lower F-score.

    Args:
        edges_ref: ``[B, 1, H, W]`` bool edges that should be kept.
        edges: ``[B, 1, H, W]`` bool edges of the other image.
        tolerance: matching radius in pixels.

    Returns:
        ``[B]`` recall in [0, 1] (1 where ``edges_ref`` is empty).
    """
    n = edges_ref.flatten(1).sum(1).float()
    kept = (edges_ref & dilate(edges, tolerance)).flatten(1).sum(1).float()
    return torch.where(n > 0, kept / n.clamp_min(1), torch.ones_like(n))


@torch.no_grad()
def patch_similarity(encoder: Any, renders: torch.Tensor, edits: torch.Tensor,
                     mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cosine of co-located patch tokens of ``encoder.patch_tokens``.

    Args:
        encoder: has ``patch_tokens(images [B,3,H,W]) -> [B, D, h, w]``.
        renders, edits: ``[B, 3, H, W]`` in [0, 1].
        mask: ``[B, 1, H, W]`` bool; only patches overlapping it count (all patches if ``None``).

    Returns:
        ``[B]`` mean cosine in [-1, 1].
    """
    ta, tb = encoder.patch_tokens(renders), encoder.patch_tokens(edits)
    cos = F.cosine_similarity(ta, tb, dim=1)  # [B, h, w]
    if mask is None:
        return cos.flatten(1).mean(1)
    w = F.adaptive_max_pool2d(mask.float(), cos.shape[-2:]).squeeze(1)
    masked = (cos * w).flatten(1).sum(1) / w.flatten(1).sum(1).clamp_min(1)
    return torch.where(w.flatten(1).sum(1) > 0, masked, cos.flatten(1).mean(1))  # empty view: all patches


def structure_scores(reference: torch.Tensor, candidate: torch.Tensor,
                     white_tolerance: float = SILHOUETTE_WHITE_TOLERANCE, edge_tolerance: int = EDGE_TOLERANCE,
                     encoder: Any = None, *, recall: bool = False) -> dict[str, torch.Tensor]:
    """Per-view structure scores of ``candidate`` against ``reference`` (same size).

    The mask cleanup radius and the edge tolerance scale with the view width (tolerances are
    given at 512 px per view), so a score means the same thing at every resolution.

    Args:
        reference: ``[V, 3, H, W]`` in [0, 1] on white (the render the builder edited, or the
            ground-truth view in evaluation).
        candidate: ``[V, 3, H, W]`` in [0, 1] on white, same size as ``reference``.
        white_tolerance: foreground rule of the silhouettes (see :mod:`photo3d.imaging.masks`).
        edge_tolerance: edge matching radius in px at 512 px per view.
        encoder: optional patch-token encoder (see :func:`patch_similarity`).
        recall: also return ``"edge_recall"``: the share of ``reference``'s edges that
            ``candidate`` keeps (:func:`edge_recall`).

    Returns:
        ``{"iou": [V], "edge_f": [V]}``, plus ``"edge_recall": [V]`` with ``recall`` and
        ``"feature_sim": [V]`` when ``encoder`` is given.
    """
    if reference.shape != candidate.shape:
        raise ValueError(f"structure scores need views of one shape, got {tuple(reference.shape)} "
                         f"and {tuple(candidate.shape)}")
    view = reference.shape[-1]
    cleanup = max(1, round(view / 256))
    mr = foreground_mask(reference, white_tolerance, cleanup)
    mc = foreground_mask(candidate, white_tolerance, cleanup)
    tol = max(1, round(edge_tolerance * view / 512))
    er, ec = edge_map(reference), edge_map(candidate)
    out = {"iou": silhouette_iou(mr, mc), "edge_f": edge_fscore(er, ec, tol)}
    if recall:
        out["edge_recall"] = edge_recall(er, ec, tol)
    if encoder is not None:
        out["feature_sim"] = patch_similarity(encoder, reference, candidate, mr)
    return out


def edge_alignment(pred: torch.Tensor, target: torch.Tensor, tol_px: int = EDGE_TOLERANCE) -> torch.Tensor:
    """Symmetric edge F-score of two sets of views (the builder's ``edge_f`` score).

    Args:
        pred, target: ``[V, 3, H, W]`` in [0, 1], same size.
        tol_px: matching radius in pixels at 512 px per view (scaled with the view size).

    Returns:
        ``[V]`` F-score in [0, 1] (1 where neither image has edges).
    """
    return structure_scores(target, pred, edge_tolerance=tol_px)["edge_f"]


__all__ = [
    "EDGE_DEF",
    "EDGE_THRESHOLD",
    "EDGE_TOLERANCE",
    "IOU_DEF",
    "edge_alignment",
    "edge_fscore",
    "edge_recall",
    "edge_map",
    "patch_similarity",
    "silhouette_iou",
    "structure_scores",
]
