"""Structure scores: does an image keep another image's geometry, view by view?

One definition serves both the dataset builder (which accepts or rejects an edited grid) and the
evaluation (which reports how well renders keep the structure of their reference views), so the
two always give the same numbers for the same pair of views. Three scores per view:

* **silhouette IoU** of the foreground masks (foreground = not near-white; a morphological
  opening then closing removes speckles and pin-holes). Catches moved, rescaled or re-posed
  objects and added/removed parts.
* **edge F-score**: edges are thresholded Sobel magnitudes of the blurred luminance; an edge
  pixel of one image counts as matched when the other image has an edge within ``tolerance``
  pixels (precision, recall, F1). Catches mirrored views (symmetric silhouettes, asymmetric
  labels) and shifts that IoU alone forgives on large objects.
* **patch-feature similarity** (optional): mean cosine of co-located encoder patch tokens
  (e.g. DINO), over the reference's foreground patches.

Photometric edits (contrast, saturation, tone, fine texture) keep all three high.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

WHITE_THRESHOLD = 0.06
EDGE_TOLERANCE = 2  # px at 512 px per view


def foreground_mask(images: torch.Tensor, white_threshold: float = WHITE_THRESHOLD,
                    cleanup: int = 1) -> torch.Tensor:
    """Foreground of images on a white background.

    Args:
        images: ``[B, 3, H, W]`` in [0, 1].
        white_threshold: a pixel is background when every channel is within this of 1.
        cleanup: radius (px) of the opening + closing that removes specks and holes.

    Returns:
        ``[B, 1, H, W]`` bool.
    """
    fg = ((1.0 - images).amax(1, keepdim=True) > white_threshold).float()
    if cleanup > 0:
        k = 2 * cleanup + 1
        dil = lambda m: F.max_pool2d(m, k, 1, cleanup)
        ero = lambda m: 1.0 - F.max_pool2d(1.0 - m, k, 1, cleanup)
        fg = ero(dil(dil(ero(fg))))  # open (remove specks), then close (fill pin-holes)
    return fg > 0.5


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


def edge_map(images: torch.Tensor, threshold: float = 0.15) -> torch.Tensor:
    """Thin edges of the 3x3-blurred luminance.

    Sobel magnitude (scaled so that a unit step gives 1) above ``threshold``, kept only where it
    is a local maximum across the edge (non-maximum suppression along the dominant gradient
    axis): thin edges make the F-score sensitive to mirrored and shifted content.

    Args:
        images: ``[B, 3, H, W]`` in [0, 1].
        threshold: minimum Sobel magnitude of an edge.

    Returns:
        ``[B, 1, H, W]`` bool.
    """
    lum = (0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]).unsqueeze(1)
    blur = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], dtype=lum.dtype) / 16.0
    lum = F.conv2d(F.pad(lum, (1, 1, 1, 1), mode="replicate"), blur.view(1, 1, 3, 3))
    sx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=lum.dtype) / 4.0
    g = F.conv2d(F.pad(lum, (1, 1, 1, 1), mode="replicate"), torch.stack([sx, sx.T]).unsqueeze(1))
    gx, gy = g[:, 0:1], g[:, 1:2]
    mag = (gx * gx + gy * gy).sqrt()
    p = F.pad(mag, (1, 1, 1, 1), mode="replicate")
    along_x = (mag >= p[..., 1:-1, :-2]) & (mag >= p[..., 1:-1, 2:])
    along_y = (mag >= p[..., :-2, 1:-1]) & (mag >= p[..., 2:, 1:-1])
    nms = torch.where(gx.abs() >= gy.abs(), along_x, along_y)
    return (mag > threshold) & nms


def edge_fscore(edges_a: torch.Tensor, edges_b: torch.Tensor, tolerance: int = 2) -> torch.Tensor:
    """F1 of edge pixels matched within ``tolerance`` px (symmetric in its arguments).

    Args:
        edges_a, edges_b: ``[B, 1, H, W]`` bool edge maps.
        tolerance: matching radius in pixels.

    Returns:
        ``[B]`` F-score in [0, 1] (1 where both maps are empty).
    """
    k = 2 * tolerance + 1
    near_a = F.max_pool2d(edges_a.float(), k, 1, tolerance) > 0
    near_b = F.max_pool2d(edges_b.float(), k, 1, tolerance) > 0
    na, nb = edges_a.flatten(1).sum(1).float(), edges_b.flatten(1).sum(1).float()
    precision = (edges_b & near_a).flatten(1).sum(1).float() / nb.clamp_min(1)
    recall = (edges_a & near_b).flatten(1).sum(1).float() / na.clamp_min(1)
    f = 2 * precision * recall / (precision + recall).clamp_min(1e-8)
    both_empty = (na == 0) & (nb == 0)
    return torch.where(both_empty, torch.ones_like(f), f)


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
                     white_threshold: float = WHITE_THRESHOLD, edge_tolerance: int = EDGE_TOLERANCE,
                     encoder: Any = None) -> dict[str, torch.Tensor]:
    """Per-view structure scores of ``candidate`` against ``reference`` (same size).

    The mask cleanup radius and the edge tolerance scale with the view width (tolerances are
    given at 512 px per view), so a score means the same thing at every resolution.

    Args:
        reference: ``[V, 3, H, W]`` in [0, 1] on white (the render the builder edited, or the
            ground-truth view in evaluation).
        candidate: ``[V, 3, H, W]`` in [0, 1] on white, same size as ``reference``.
        white_threshold: see :func:`foreground_mask`.
        edge_tolerance: edge matching radius in px at 512 px per view.
        encoder: optional patch-token encoder (see :func:`patch_similarity`).

    Returns:
        ``{"iou": [V], "edge_f": [V]}``, plus ``"feature_sim": [V]`` when ``encoder`` is given.
    """
    if reference.shape != candidate.shape:
        raise ValueError(f"structure scores need views of one shape, got {tuple(reference.shape)} "
                         f"and {tuple(candidate.shape)}")
    view = reference.shape[-1]
    cleanup = max(1, round(view / 256))
    mr = foreground_mask(reference, white_threshold, cleanup)
    mc = foreground_mask(candidate, white_threshold, cleanup)
    tol = max(1, round(edge_tolerance * view / 512))
    out = {"iou": silhouette_iou(mr, mc), "edge_f": edge_fscore(edge_map(reference), edge_map(candidate), tol)}
    if encoder is not None:
        out["feature_sim"] = patch_similarity(encoder, reference, candidate, mr)
    return out


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
