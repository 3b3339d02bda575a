"""Input checks for the loss functions: one clear line per problem, cheap, switchable.

Shape checks cost nothing and always run. Value checks (NaN/Inf, range [0, 1]) need one pass
over the data and, on CUDA, a device sync; they are on by default because a NaN render is the
most common silent failure of a training run, and can be switched off for speed with
``PHOTO3D_CHECK_VALUES=0`` or :func:`set_value_checks` (the same trade-off as gsplat's
``ENFORCE_CONTRACTS``).
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from photo3d.errors import InputError

RANGE_TOL = 1e-3  # renders and resampled images overshoot [0, 1] slightly
_VALUE_CHECKS = os.environ.get("PHOTO3D_CHECK_VALUES", "1") != "0"


def set_value_checks(enabled: bool) -> bool:
    """Turn the NaN/Inf/range checks on or off; returns the previous setting."""
    global _VALUE_CHECKS
    previous, _VALUE_CHECKS = _VALUE_CHECKS, bool(enabled)
    return previous


def check_views(pred: Tensor, target: Tensor) -> None:
    """Check a pred/target pair of view batches.

    Args:
        pred: ``[N, 3, H, W]`` in [0, 1].
        target: ``[N, 3, H, W]`` in [0, 1], same shape.

    Raises:
        InputError: wrong rank/channels, mismatched shapes, NaN/Inf or values outside [0, 1].
    """
    for name, x in (("pred", pred), ("target", target)):
        if not isinstance(x, Tensor):
            raise InputError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != 3:
            raise InputError(f"{name} must be [N, 3, H, W] RGB views, got shape {tuple(x.shape)}")
        if x.shape[0] == 0:
            raise InputError(f"{name} holds no views (N = 0)")
    if pred.shape != target.shape:
        raise InputError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same shape "
            "(corresponding views at the same resolution)"
        )
    for name, x in (("pred", pred), ("target", target)):
        check_values(x, name)


def check_values(x: Tensor, name: str, low: float = 0.0, high: float = 1.0) -> None:
    """Raise :class:`InputError` on NaN/Inf or values outside ``[low, high]`` (± RANGE_TOL)."""
    if not _VALUE_CHECKS or x.numel() == 0:
        return
    with torch.no_grad():
        lo, hi = torch.aminmax(x.detach())
        lo, hi = float(lo), float(hi)
    # NaN compares False, Inf fails the bounds: a single pass covers all three problems.
    if lo >= low - RANGE_TOL and hi <= high + RANGE_TOL:
        return
    if not torch.isfinite(x).all():
        n_bad = int((~torch.isfinite(x)).sum())
        raise InputError(f"{name} contains {n_bad} NaN/Inf values")
    raise InputError(
        f"{name} values must lie in [{low}, {high}] (images as float in [0, 1]), "
        f"got min {lo:.4g} max {hi:.4g}"
    )


def check_weights(weights: Tensor | None, n: int, name: str = "weights") -> Tensor | None:
    """``weights`` must be ``[n]``, finite and non-negative with a positive sum."""
    if weights is None:
        return None
    weights = torch.as_tensor(weights)
    if weights.shape != (n,):
        raise InputError(f"{name} must have shape [{n}] (one per view), got {tuple(weights.shape)}")
    if not torch.isfinite(weights).all() or (weights < 0).any() or float(weights.sum()) <= 0:
        raise InputError(f"{name} must be finite, >= 0 and not all zero, got {weights.tolist()}")
    return weights


def check_reduction(reduction: str) -> None:
    """``reduction`` must be 'mean', 'sum' or 'none'."""
    if reduction not in ("mean", "sum", "none"):
        raise InputError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
