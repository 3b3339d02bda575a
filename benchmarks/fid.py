"""FID on 2048-d Inception features: our estimator against the usual matrix-square-root routes.

    python benchmarks/fid.py                 # n = 96 and 3000 images per set
    python benchmarks/fid.py --sizes 96 --repeats 3

Peers, each on the same float64 features (random, Inception-like: non-negative, correlated):

* ``torchmetrics``: ``FrechetInceptionDistance.compute`` fed with the features (a general
  eigendecomposition of ``S_r S_f``), what ``photo3d eval`` used before;
* ``scipy sqrtm``: ``scipy.linalg.sqrtm(S_r S_f)`` as pytorch-fid and clean-fid compute it;
* ``photo3d``: :func:`photo3d.eval.metrics.distribution.fid_from_features` (singular values of
  the centred cross-product below 2048 images per set, symmetric eigendecompositions above).

Prints seconds (median of ``--repeats``; the slow peers run once unless ``--repeats-peers``), the
speed-up of ours against each peer, and the largest relative difference of the values.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from photo3d.eval.metrics.distribution import fid_from_features, fid_torchmetrics


def features(n: int, d: int, seed: int, shift: float) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, 64, generator=gen, dtype=torch.float64) / 8
    z = torch.randn(n, 64, generator=gen, dtype=torch.float64)
    return (z @ mix.T + 0.3 * torch.randn(n, d, generator=gen, dtype=torch.float64) + shift).relu()


def fid_scipy(real: torch.Tensor, fake: torch.Tensor) -> float:
    from scipy import linalg

    x, y = real.numpy(), fake.numpy()
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root.real))


def timed(fn, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), value


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[96, 3000], help="images per set")
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=5, help="runs of ours (median)")
    p.add_argument("--repeats-peers", type=int, default=1, help="runs of torchmetrics and scipy (median)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"FID on {args.dim}-d features, float64, {torch.get_num_threads()} torch threads\n")
    print("| images per set | torchmetrics (s) | scipy sqrtm (s) | photo3d (s) | vs torchmetrics | vs scipy "
          "| max rel. difference |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        real, fake = features(n, args.dim, 0, 0.0), features(n, args.dim, 1, 0.05)
        t_ours, v_ours = timed(lambda: fid_from_features(real, fake), args.repeats)
        t_tm, v_tm = timed(lambda: fid_torchmetrics(real, fake), args.repeats_peers)
        t_sp, v_sp = timed(lambda: fid_scipy(real, fake), args.repeats_peers)
        diff = max(abs(v_ours - v_tm), abs(v_ours - v_sp)) / abs(v_tm)
        print(f"| {n} | {t_tm:.2f} | {t_sp:.2f} | {t_ours:.3f} | {t_tm / t_ours:.0f}x | {t_sp / t_ours:.0f}x "
              f"| {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
