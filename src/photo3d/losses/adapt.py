"""L_adapt, perceptual feature adaptation (Photo3D §3.1).

.. math::

    L_{adapt} = \\frac{1}{|C|} \\sum_{c \\in C} 1 - \\langle \\phi(\\tau_c(I_{syn})),
    \\phi(\\tau_c(I_{GT})) \\rangle

``tau_c`` cuts the same random square window from a rendered view and its realistic
counterpart and resizes it to the encoder's input size; ``phi`` is a frozen global image
encoder (CLIP ViT-B/32 in the paper and code), L2-normalised. All ``N * n_crops`` pred crops go
through the encoder in one call, all target crops in another (under ``no_grad``: only the
prediction receives gradients). Crop defaults follow the released TRELLIS trainer (6 crops per
view, side fraction U(0.4, 1.0), min 32 px); the paper gives no numbers (see
:mod:`photo3d.losses.config`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from photo3d.losses.checks import check_reduction, check_views, check_weights
from photo3d.losses.crops import crop_resize, sample_crop_boxes
from photo3d.losses.frozen import FrozenHolder


def adapt_loss_from_embeddings(
    pred_emb: Tensor,
    target_emb: Tensor,
    weights: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos`` between matching embeddings.

    Args:
        pred_emb: ``[M, D]`` (need not be normalised).
        target_emb: ``[M, D]``.
        weights: optional ``[M]`` non-negative weights (used by 'mean' and 'sum').
        reduction: 'mean' (weighted mean), 'sum' (weighted sum) or 'none' (``[M]``).

    Returns:
        Scalar, or ``[M]`` for 'none'.
    """
    check_reduction(reduction)
    p = F.normalize(at_least_fp32(pred_emb), dim=-1)
    t = F.normalize(at_least_fp32(target_emb), dim=-1)
    per = 1.0 - (p * t).sum(dim=-1)
    return _reduce(per, weights, reduction)


def adapt_loss(
    pred: Tensor,
    target: Tensor,
    encoder,
    *,
    n_crops: int = 6,
    crop_scale: tuple[float, float] = (0.4, 1.0),
    min_crop: int = 32,
    input_size: int | None = None,
    boxes: Tensor | None = None,
    generator: torch.Generator | None = None,
    weights: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """L_adapt over corresponding views.

    Args:
        pred: ``[N, 3, H, W]`` rendered views in [0, 1] (receive gradients).
        target: ``[N, 3, H, W]`` realistic views in [0, 1].
        encoder: frozen :class:`~photo3d.encoders.Encoder` (``embed``).
        n_crops: windows per view.
        crop_scale: range of the crop side as a fraction of the view side.
        min_crop: smallest crop side in pixels.
        input_size: crop resize; default ``encoder.input_size``.
        boxes: ``[N, n_crops, 3]`` fixed windows (overrides sampling).
        generator: CPU generator for the crop windows.
        weights: optional ``[N]`` per-view weights; each crop inherits its view's weight.
        reduction: 'mean', 'sum', or 'none' (``[N, n_crops]`` per-crop values).

    Returns:
        Scalar loss, or ``[N, n_crops]`` for 'none'.
    """
    check_views(pred, target)
    check_reduction(reduction)
    n, _, h, w = pred.shape
    weights = check_weights(weights, n)
    if boxes is None:
        boxes = sample_crop_boxes(n, h, w, n_crops, crop_scale, min_crop, generator)
    size = int(input_size or encoder.input_size)
    k = boxes.shape[1]
    pred_emb = encoder.embed(crop_resize(pred, boxes, size))
    with torch.no_grad():
        target_emb = encoder.embed(crop_resize(target, boxes, size))
    crop_w = None if weights is None else weights.to(pred.device).repeat_interleave(k)
    if reduction == "none":
        return adapt_loss_from_embeddings(pred_emb, target_emb, reduction="none").view(n, k)
    return adapt_loss_from_embeddings(pred_emb, target_emb, crop_w, reduction)


class AdaptLoss(FrozenHolder):
    """Module twin of :func:`adapt_loss`; holds the frozen encoder (not as a parameter).

    Args:
        encoder: frozen global-embedding encoder.
        n_crops: windows per view.
        crop_scale: side fraction range.
        min_crop: smallest crop side.
        input_size: crop resize (default: the encoder's).
        reduction: default reduction.
    """

    def __init__(
        self,
        encoder,
        n_crops: int = 6,
        crop_scale: tuple[float, float] = (0.4, 1.0),
        min_crop: int = 32,
        input_size: int | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(adapt_encoder=encoder)
        check_reduction(reduction)
        self.n_crops, self.crop_scale, self.min_crop = n_crops, tuple(crop_scale), min_crop
        self.input_size, self.reduction = input_size, reduction

    def forward(
        self,
        pred: Tensor,
        target: Tensor,
        weights: Tensor | None = None,
        generator: torch.Generator | None = None,
        boxes: Tensor | None = None,
    ) -> Tensor:
        """``[N,3,H,W]`` x2 -> loss (see :func:`adapt_loss`)."""
        return adapt_loss(
            pred, target, self.adapt_encoder, n_crops=self.n_crops, crop_scale=self.crop_scale,
            min_crop=self.min_crop, input_size=self.input_size, boxes=boxes,
            generator=generator, weights=weights, reduction=self.reduction,
        )  # fmt: skip


def at_least_fp32(x: Tensor) -> Tensor:
    """Half-precision encoder outputs are promoted to float32; float64 stays float64."""
    return x if x.dtype == torch.float64 else x.float()


def _reduce(per: Tensor, weights: Tensor | None, reduction: str) -> Tensor:
    """Weighted 'mean' / 'sum' / 'none' of a ``[M]`` tensor."""
    if reduction == "none":
        return per
    if weights is None:
        return per.mean() if reduction == "mean" else per.sum()
    w = weights.to(device=per.device, dtype=per.dtype)
    total = (per * w).sum()
    return total / w.sum() if reduction == "mean" else total
