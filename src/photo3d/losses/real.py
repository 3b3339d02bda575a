"""L_real, the realistic-detail loss (Photo3D §3.3): ``lambda_adapt * L_adapt + lambda_match * L_match``.

The paper weights both terms 1 (so does the TRELLIS trainer; TexGaussian's script uses 0.5 for
L_adapt). Encoders are passed in, never loaded here: use
:func:`photo3d.encoders.default_encoders` to get the paper's CLIP + DINOv3 pair or the offline
stand-in, and store its record with the run.
"""

from __future__ import annotations

import torch
from torch import Tensor

from photo3d.losses.adapt import adapt_loss
from photo3d.losses.config import RealLossConfig
from photo3d.losses.frozen import FrozenHolder
from photo3d.imaging.masks import WHITE_TOLERANCE
from photo3d.losses.match import match_loss

_OPTION_NAMES = (
    "n_crops", "crop_scale", "min_crop", "adapt_size", "match_size", "match_rule",
    "mask_background", "white_tolerance",
)  # fmt: skip


def real_loss(
    pred: Tensor,
    target: Tensor,
    adapt_encoder,
    match_encoder,
    *,
    lambda_adapt: float = 1.0,
    lambda_match: float = 1.0,
    n_crops: int = 6,
    crop_scale: tuple[float, float] = (0.4, 1.0),
    min_crop: int = 32,
    adapt_size: int | None = None,
    match_size: int | None = 1024,
    match_rule: str = "nn",
    mask_background: bool = True,
    white_tolerance: float = WHITE_TOLERANCE,
    view_weights: Tensor | None = None,
    mask: Tensor | tuple[Tensor, Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """L_real and its two terms.

    Args:
        pred: ``[N, 3, H, W]`` rendered views in [0, 1].
        target: ``[N, 3, H, W]`` realistic views in [0, 1] (same cameras).
        adapt_encoder: global-embedding encoder for L_adapt (paper: CLIP ViT-B/32).
        match_encoder: patch-token encoder for L_match (paper: DINOv3 ViT-L/16).
        lambda_adapt: weight of L_adapt; 0 skips the term (and its encoder call).
        lambda_match: weight of L_match; 0 skips the term.
        n_crops: L_adapt windows per view.
        crop_scale: L_adapt crop side fraction range.
        min_crop: smallest crop side in pixels.
        adapt_size: crop resize (default: the adapt encoder's input size).
        match_size: view resize m for L_match (paper 1024).
        match_rule: "nn" (paper) or "greedy" (released code).
        mask_background: drop white-background tokens in L_match.
        white_tolerance: background mask rule (foreground = some channel more than this below white).
        view_weights: optional ``[N]`` per-view weights for both terms.
        mask: explicit L_match foreground masks (see :func:`~photo3d.losses.match.match_loss`).
        generator: CPU generator for the crop windows.

    Returns:
        ``{"loss", "adapt", "match"}`` scalar tensors (a skipped term is 0).
    """
    zero = pred.new_zeros(())
    adapt = match = zero
    if lambda_adapt:
        adapt = adapt_loss(
            pred, target, adapt_encoder, n_crops=n_crops, crop_scale=crop_scale,
            min_crop=min_crop, input_size=adapt_size or None, generator=generator,
            weights=view_weights,
        )  # fmt: skip
    if lambda_match:
        match = match_loss(
            pred, target, match_encoder, size=match_size or None, rule=match_rule,
            mask_background=mask_background, mask=mask, white_tolerance=white_tolerance,
            weights=view_weights,
        )  # fmt: skip
    loss = lambda_adapt * adapt + lambda_match * match
    return {"loss": loss, "adapt": adapt, "match": match}


class RealLoss(FrozenHolder):
    """Module twin of :func:`real_loss`.

    The encoders are held as plain attributes, so ``RealLoss.parameters()`` is empty and
    ``state_dict()`` holds no encoder weights; ``.to(device)`` still moves them.

    Args:
        adapt_encoder: global-embedding encoder for L_adapt.
        match_encoder: patch-token encoder for L_match (may be the same object).
        lambda_adapt: weight of L_adapt.
        lambda_match: weight of L_match.
        **options: any keyword of :func:`real_loss` from ``n_crops`` to ``white_tolerance``.

    Example:
        >>> from photo3d.encoders import load_encoder
        >>> enc = load_encoder("tiny-clip")
        >>> loss_fn = RealLoss(enc, enc, match_size=32)
        >>> x = torch.rand(2, 3, 64, 64)
        >>> float(loss_fn(x, x)) < 1e-4
        True
    """

    def __init__(
        self, adapt_encoder, match_encoder, lambda_adapt: float = 1.0, lambda_match: float = 1.0, **options
    ) -> None:
        super().__init__(adapt_encoder=adapt_encoder, match_encoder=match_encoder)
        unknown = set(options) - set(_OPTION_NAMES)
        if unknown:
            raise TypeError(f"unknown RealLoss options {sorted(unknown)}; valid: {list(_OPTION_NAMES)}")
        if options.get("match_rule", "nn") not in ("nn", "greedy"):
            raise ValueError(f"match_rule must be 'nn' or 'greedy', got {options['match_rule']!r}")
        self.lambda_adapt, self.lambda_match = float(lambda_adapt), float(lambda_match)
        self.options = dict(options)

    @classmethod
    def from_config(cls, cfg: RealLossConfig, adapt_encoder, match_encoder) -> RealLoss:
        """Build from a :class:`~photo3d.losses.config.RealLossConfig`."""
        return cls(
            adapt_encoder, match_encoder, cfg.lambda_adapt, cfg.lambda_match,
            n_crops=cfg.n_crops, crop_scale=cfg.crop_scale, min_crop=cfg.min_crop,
            adapt_size=cfg.adapt_size or None, match_size=cfg.match_size,
            match_rule=cfg.match_rule, mask_background=cfg.mask_background,
            white_tolerance=cfg.white_tolerance,
        )  # fmt: skip

    def components(
        self,
        pred: Tensor,
        target: Tensor,
        weights: Tensor | None = None,
        generator: torch.Generator | None = None,
        mask: Tensor | tuple[Tensor, Tensor] | None = None,
    ) -> dict[str, Tensor]:
        """``{"loss", "adapt", "match"}`` for ``[N, 3, H, W]`` pred / target views."""
        return real_loss(
            pred, target, self.adapt_encoder, self.match_encoder,
            lambda_adapt=self.lambda_adapt, lambda_match=self.lambda_match,
            view_weights=weights, mask=mask, generator=generator, **self.options,
        )  # fmt: skip

    def forward(
        self,
        pred: Tensor,
        target: Tensor,
        weights: Tensor | None = None,
        generator: torch.Generator | None = None,
        mask: Tensor | tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:
        """Scalar L_real for ``[N, 3, H, W]`` pred / target views."""
        return self.components(pred, target, weights, generator, mask)["loss"]

    def describe(self) -> dict:
        """JSON-able record: weights, options and which encoders ran."""
        rec = {"lambda_adapt": self.lambda_adapt, "lambda_match": self.lambda_match, **self.options}
        for role, enc in (("adapt", self.adapt_encoder), ("match", self.match_encoder)):
            rec[f"{role}_encoder"] = enc.describe() if hasattr(enc, "describe") else {
                "name": getattr(enc, "name", type(enc).__name__),
                "is_standin": getattr(enc, "is_standin", True),
            }
        return rec
