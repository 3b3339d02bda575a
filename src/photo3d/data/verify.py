"""Structure verification: does an edited grid keep the render's geometry, view by view?

Three scores per view, each comparing the edited view with the render it came from:

* **silhouette IoU** of the foreground masks (foreground = not near-white; a morphological
  opening then closing removes speckles and pin-holes). Catches moved, rescaled or re-posed
  objects and added/removed parts.
* **edge F-score**: edges are thresholded Sobel magnitudes of the blurred luminance; an edge
  pixel of one image counts as matched when the other image has an edge within ``tolerance``
  pixels (precision, recall, F1). Catches mirrored views (symmetric silhouettes, asymmetric
  labels) and shifts that IoU alone forgives on large objects.
* **patch-feature similarity** (optional): mean cosine of co-located encoder patch tokens
  (e.g. DINO), over the render's foreground patches.

A view passes when every enabled score reaches its threshold; a grid passes when all views do.
Photometric edits (contrast, saturation, tone, fine texture) keep all three high.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from photo3d.grid import split_grid


def foreground_mask(images: torch.Tensor, white_threshold: float = 0.06, cleanup: int = 1) -> torch.Tensor:
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
    """``[B]`` intersection-over-union of two ``[B, 1, H, W]`` bool masks (1 when both empty)."""
    inter = (mask_a & mask_b).flatten(1).sum(1).float()
    union = (mask_a | mask_b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def edge_map(images: torch.Tensor, threshold: float = 0.15) -> torch.Tensor:
    """``[B, 1, H, W]`` bool thin edges of the 3x3-blurred luminance.

    Sobel magnitude (scaled so that a unit step gives 1) above ``threshold``, kept only where it
    is a local maximum across the edge (non-maximum suppression along the dominant gradient
    axis): thin edges make the F-score sensitive to mirrored and shifted content.
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
    """``[B]`` F1 of edge pixels matched within ``tolerance`` px (1 when both maps are empty)."""
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
    """``[B]`` mean cosine of co-located patch tokens of ``encoder.patch_tokens``.

    Args:
        encoder: has ``patch_tokens(images [B,3,H,W]) -> [B, D, h, w]``.
        renders, edits: ``[B, 3, H, W]`` in [0, 1].
        mask: ``[B, 1, H, W]`` bool; only patches overlapping it count (all patches if ``None``).
    """
    ta, tb = encoder.patch_tokens(renders), encoder.patch_tokens(edits)
    cos = F.cosine_similarity(ta, tb, dim=1)  # [B, h, w]
    if mask is None:
        return cos.flatten(1).mean(1)
    w = F.adaptive_max_pool2d(mask.float(), cos.shape[-2:]).squeeze(1)
    masked = (cos * w).flatten(1).sum(1) / w.flatten(1).sum(1).clamp_min(1)
    return torch.where(w.flatten(1).sum(1) > 0, masked, cos.flatten(1).mean(1))  # empty view: all patches


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
    if edited.shape[-2:] != render.shape[-2:]:
        edited = F.interpolate(edited[None], size=render.shape[-2:], mode="bilinear", antialias=True,
                               align_corners=False)[0].clamp(0, 1)
    r, e = split_grid(render, rows, cols), split_grid(edited, rows, cols)
    view = r.shape[-1]
    cleanup = max(1, round(view / 256))
    mr = foreground_mask(r, cfg.white_threshold, cleanup)
    me = foreground_mask(e, cfg.white_threshold, cleanup)
    iou = silhouette_iou(mr, me)
    tol = max(1, round(cfg.edge_tolerance * view / 512))
    ef = edge_fscore(edge_map(r), edge_map(e), tol)
    feat = patch_similarity(encoder, r, e, mr) if encoder is not None else None
    views, failed = [], []
    for i in range(len(r)):
        scores = {"iou": round(float(iou[i]), 4), "edge_f": round(float(ef[i]), 4)}
        if feat is not None:
            scores["feature_sim"] = round(float(feat[i]), 4)
        views.append(scores)
        if scores["iou"] < cfg.min_iou:
            failed.append(f"view{i}:iou")
        if scores["edge_f"] < cfg.min_edge_f:
            failed.append(f"view{i}:edge_f")
        if feat is not None and scores["feature_sim"] < cfg.min_feature_sim:
            failed.append(f"view{i}:feature_sim")
    return Verification(accepted=not failed, views=views, failed_checks=failed)
