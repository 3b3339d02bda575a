"""L_match, semantic structure matching (Photo3D §3.2).

.. math::

    L_{match} = 1 - \\frac{1}{|P|} \\sum_{p \\in P} \\max_{q \\in Q} \\langle f_p, f_q \\rangle

``f_p`` / ``f_q`` are last-layer patch tokens (after the final norm, L2-normalised per token) of
the rendered and the realistic view, both resized to ``m x m`` (bilinear, align_corners=False).
Two matching rules (:mod:`photo3d.losses.matching`):

- ``"nn"`` (paper, default): each pred token takes its most similar target token.
- ``"greedy"`` (released code): greedy one-to-one assignment, ``min(Np, Ng)`` pairs.

The target branch runs under ``no_grad``; the assignment is computed on the detached
similarity matrix and the selected entries are gathered from the differentiable one, so
gradients flow into the prediction only. The similarity matrix is computed in float32 even for
half-precision encoders (bf16 would create many exact ties).

Background masking (on by default, as the TexGaussian code; the TRELLIS code does not mask):
a token is kept when the nearest-downsampled foreground mask is set at its grid cell, with
foreground = some channel more than ``white_tolerance`` (5/255) below white, i.e. below 250/255
as in the released code (:func:`photo3d.imaging.foreground_mask`), or an explicit mask. When either
side of a view has no foreground token the view's loss is 1.0 (as in the released code), with a
warning; it then carries no gradient.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from photo3d.errors import InputError
from photo3d.imaging.masks import WHITE_TOLERANCE, foreground_mask
from photo3d.losses.adapt import _reduce, at_least_fp32
from photo3d.losses.checks import check_reduction, check_views, check_weights
from photo3d.losses.frozen import FrozenHolder
from photo3d.losses.matching import greedy_assignment, nn_assignment

def token_mask(mask: Tensor, grid: tuple[int, int]) -> Tensor:
    """Nearest-neighbour downsample a ``[N, 1, H, W]`` mask to the token grid -> ``[N, h*w]`` bool."""
    m = F.interpolate(mask.float(), size=grid, mode="nearest")
    return m.flatten(1) > 0.5


def match_loss_from_tokens(
    pred_tokens: Tensor,
    target_tokens: Tensor,
    rule: str = "nn",
    pred_mask: Tensor | None = None,
    target_mask: Tensor | None = None,
    weights: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """L_match from patch tokens.

    Args:
        pred_tokens: ``[N, D, h, w]`` or ``[N, P, D]`` (need not be normalised).
        target_tokens: ``[N, D, h', w']`` or ``[N, Q, D]``.
        rule: "nn" (paper) or "greedy" (released code).
        pred_mask: optional ``[N, P]`` bool tokens to keep.
        target_mask: optional ``[N, Q]`` bool.
        weights: optional ``[N]`` per-view weights.
        reduction: 'mean' | 'sum' | 'none' (``[N]`` per view).

    Returns:
        Scalar, or ``[N]`` for 'none'.
    """
    check_reduction(reduction)
    if rule not in ("nn", "greedy"):
        raise InputError(f"match rule must be 'nn' or 'greedy', got {rule!r}")
    p = _flat_tokens(pred_tokens)
    t = _flat_tokens(target_tokens)
    if p.shape[0] != t.shape[0] or p.shape[2] != t.shape[2]:
        raise InputError(
            f"pred tokens {tuple(p.shape)} and target tokens {tuple(t.shape)} need the same "
            "number of views and channels"
        )
    n = p.shape[0]
    weights = check_weights(weights, n)
    p = F.normalize(at_least_fp32(p), dim=-1)
    t = F.normalize(at_least_fp32(t), dim=-1).detach()
    assign = nn_assignment if rule == "nn" else greedy_assignment
    per_view = []
    for i in range(n):
        pi, ti = p[i], t[i]
        if pred_mask is not None:
            pi = pi[pred_mask[i]]
        if target_mask is not None:
            ti = ti[target_mask[i]]
        if pi.shape[0] == 0 or ti.shape[0] == 0:
            warnings.warn(
                f"L_match: view {i} has no foreground tokens on the "
                f"{'pred' if pi.shape[0] == 0 else 'target'} side; its loss is 1.0",
                stacklevel=2,
            )
            per_view.append(p[i].sum() * 0.0 + 1.0)  # keeps the graph, zero gradient
            continue
        sim = pi @ ti.T  # [P, Q]
        rows, cols = assign(sim.detach())
        per_view.append(1.0 - sim[rows, cols].mean())
    return _reduce(torch.stack(per_view), weights, reduction)


def match_loss(
    pred: Tensor,
    target: Tensor,
    encoder,
    *,
    size: int | None = 1024,
    rule: str = "nn",
    mask_background: bool = True,
    mask: Tensor | tuple[Tensor, Tensor] | None = None,
    white_tolerance: float = WHITE_TOLERANCE,
    weights: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """L_match over corresponding views.

    Args:
        pred: ``[N, 3, H, W]`` rendered views in [0, 1] (receive gradients).
        target: ``[N, 3, H, W]`` realistic views in [0, 1].
        encoder: frozen :class:`~photo3d.encoders.Encoder` (``patch_tokens``).
        size: side m each view is resized to (paper 1024); None = no resize.
        rule: "nn" (paper) or "greedy" (released code).
        mask_background: drop tokens of near-white background.
        mask: explicit foreground masks ``[N, 1, H, W]`` for both sides, or a
            ``(pred_mask, target_mask)`` pair; overrides the white-background rule.
        white_tolerance: foreground = some channel more than this below white (5/255: below 250/255).
        weights: optional ``[N]`` per-view weights.
        reduction: 'mean' | 'sum' | 'none' (``[N]``).

    Returns:
        Scalar, or ``[N]`` for 'none'.
    """
    check_views(pred, target)
    pm = tm = None
    if mask is not None:
        pm, tm = mask if isinstance(mask, (tuple, list)) else (mask, mask)
        for name, m in (("pred mask", pm), ("target mask", tm)):
            if m.ndim != 4 or m.shape[1] != 1 or m.shape[0] != pred.shape[0] or m.shape[2:] != pred.shape[2:]:
                raise InputError(f"{name} must be [N, 1, H, W] = {[pred.shape[0], 1, *pred.shape[2:]]}, got {tuple(m.shape)}")  # fmt: skip
        pm, tm = pm > 0.5, tm > 0.5
    elif mask_background:
        pm = foreground_mask(pred.detach(), white_tolerance)
        tm = foreground_mask(target, white_tolerance)
    pred_tokens = encoder.patch_tokens(_resize(pred, size))
    with torch.no_grad():
        target_tokens = encoder.patch_tokens(_resize(target, size))
    pmask = None if pm is None else token_mask(pm, tuple(pred_tokens.shape[-2:]))
    tmask = None if tm is None else token_mask(tm, tuple(target_tokens.shape[-2:]))
    return match_loss_from_tokens(
        pred_tokens, target_tokens, rule, pmask, tmask, weights=weights, reduction=reduction
    )


class MatchLoss(FrozenHolder):
    """Module twin of :func:`match_loss`; holds the frozen encoder (not as a parameter).

    Args:
        encoder: frozen patch-token encoder.
        size: view resize m (paper 1024).
        rule: "nn" or "greedy".
        mask_background: drop near-white background tokens.
        white_tolerance: foreground rule (see :func:`match_loss`).
        reduction: default reduction.
    """

    def __init__(
        self,
        encoder,
        size: int | None = 1024,
        rule: str = "nn",
        mask_background: bool = True,
        white_tolerance: float = WHITE_TOLERANCE,
        reduction: str = "mean",
    ) -> None:
        super().__init__(match_encoder=encoder)
        check_reduction(reduction)
        if rule not in ("nn", "greedy"):
            raise InputError(f"match rule must be 'nn' or 'greedy', got {rule!r}")
        self.size, self.rule, self.mask_background = size, rule, mask_background
        self.white_tolerance, self.reduction = white_tolerance, reduction

    def forward(self, pred: Tensor, target: Tensor, weights: Tensor | None = None, mask=None) -> Tensor:
        """``[N,3,H,W]`` x2 -> loss (see :func:`match_loss`)."""
        return match_loss(
            pred, target, self.match_encoder, size=self.size, rule=self.rule,
            mask_background=self.mask_background, mask=mask,
            white_tolerance=self.white_tolerance, weights=weights, reduction=self.reduction,
        )  # fmt: skip


def _resize(x: Tensor, size: int | None) -> Tensor:
    if size is None or tuple(x.shape[-2:]) == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def _flat_tokens(x: Tensor) -> Tensor:
    """``[N, D, h, w]`` -> ``[N, h*w, D]``; ``[N, P, D]`` passes through."""
    if x.ndim == 4:
        return x.flatten(2).transpose(1, 2)
    if x.ndim == 3:
        return x
    raise InputError(f"tokens must be [N, D, h, w] or [N, P, D], got shape {tuple(x.shape)}")
