"""Seeded percentile-bootstrap confidence intervals.

Items are resampled with replacement (``n_resamples`` times, default 1000) and the statistic is
recomputed on every resample; the CI is the (alpha/2, 1 - alpha/2) percentile range (95% by
default). Paired comparisons resample item *indices* once and apply them to both methods, so the
CI is for the paired difference. Non-finite values (PSNR of identical images is inf) are kept
out of means and counted in ``n_nonfinite``.

Every result has ``ci_low``/``ci_high``; when they are ``None`` (no interval), ``ci_reason`` says
why: ``n_resamples = 0``, too few items, or (set statistics) an interval that would not contain
the estimate.

Set statistics (FID, KID) are biased by resampling with replacement: a resample repeats items,
which shrinks the spread of its features, so resampled FIDs sit above the full-set FID and a plain
percentile interval can exclude the reported value. :func:`bootstrap_indices_ci` with
``recenter=True`` therefore shifts the resamples by their mean minus the estimate (the bootstrap
bias estimate) before taking percentiles: the interval keeps the resamples' spread around the
reported value. Below ``min_n`` items no interval is given at all.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict:
    """Point estimate and percentile-bootstrap CI of ``statistic`` over ``values``.

    Args:
        values: ``[N]`` per-item values (non-finite ones are dropped and counted).
        statistic: reduces a ``[N]`` array to a float.
        n_resamples: bootstrap resamples.
        confidence: CI level.
        seed: RNG seed (numpy ``default_rng``).

    Returns:
        ``{"value", "ci_low", "ci_high", "n", "n_nonfinite", "confidence", "n_resamples"}``;
        the CI is ``None`` (with ``ci_reason``) when fewer than 2 finite values exist or
        ``n_resamples`` is 0.
    """
    arr = np.asarray(values, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    out = {
        "value": float(statistic(finite)) if len(finite) else (float(arr[0]) if len(arr) else None),
        "ci_low": None,
        "ci_high": None,
        "n": int(len(finite)),
        "n_nonfinite": int(len(arr) - len(finite)),
        "confidence": confidence,
        "n_resamples": n_resamples,
    }
    reason = _no_interval(len(finite), n_resamples, 2)
    if reason:
        out["ci_reason"] = reason
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(finite), size=(n_resamples, len(finite)))
    stats = np.array([statistic(finite[i]) for i in idx])
    out["ci_low"], out["ci_high"] = _percentiles(stats, confidence)
    return out


def bootstrap_indices_ci(
    n: int,
    statistic: Callable[[np.ndarray], float],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    min_n: int = 2,
    recenter: bool = False,
) -> dict:
    """Bootstrap a statistic of item *indices* (set metrics such as FID/KID, paired statistics).

    The reported value and every resample use the same ``statistic``.

    Args:
        n: number of items.
        statistic: ``[n] int64 indices -> float``; called once with ``arange(n)`` for the estimate.
        n_resamples: bootstrap resamples (0: no interval).
        confidence: CI level.
        seed: RNG seed.
        min_n: fewest items for which an interval is given.
        recenter: shift the resamples by the bootstrap bias estimate (see the module docs); an
            interval that still does not contain the value is dropped, with the reason.

    Returns:
        ``{"value", "ci_low", "ci_high", "n", "confidence", "n_resamples", "ci_method"}``, plus
        ``ci_reason`` when there is no interval.
    """
    out = {
        "value": float(statistic(np.arange(n))),
        "ci_low": None,
        "ci_high": None,
        "n": int(n),
        "confidence": confidence,
        "n_resamples": n_resamples,
        "ci_method": "percentile bootstrap over items" + (", recentred on the value" if recenter else ""),
    }
    reason = _no_interval(n, n_resamples, max(2, min_n))
    if reason:
        out["ci_reason"] = reason
        return out
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_resamples):
        idx = rng.integers(0, n, size=n)
        if len(np.unique(idx)) < 2:  # a resample of one item has no spread (FID/KID undefined)
            continue
        stats.append(statistic(idx))
    stats = np.array([s for s in stats if math.isfinite(s)])
    if not len(stats):
        out["ci_reason"] = "no resample gave a finite value"
        return out
    if recenter:
        stats = stats - (stats.mean() - out["value"])
    lo, hi = _percentiles(stats, confidence)
    if recenter and not lo <= out["value"] <= hi:
        out["ci_reason"] = "the resamples are too skewed for an interval around the value"
        return out
    out["ci_low"], out["ci_high"] = lo, hi
    return out


def paired_difference(
    a: Sequence[float], b: Sequence[float], n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict:
    """Mean of ``b - a`` over pairs with a bootstrap CI (pairs with a non-finite side are dropped).

    Args:
        a, b: ``[N]`` values of methods A and B on the same items, in the same order.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    out = bootstrap_ci(b[keep] - a[keep], n_resamples=n_resamples, confidence=confidence, seed=seed)
    out["n_pairs_dropped"] = int((~keep).sum())
    return out


def _no_interval(n: int, n_resamples: int, min_n: int) -> str | None:
    """Why no interval can be given (``None`` when one can)."""
    if n_resamples <= 0:
        return "no bootstrap resamples requested (n_bootstrap = 0)"
    if n < min_n:
        return f"too few items for an interval ({n} < {min_n})"
    return None


def _percentiles(stats: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(stats, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
