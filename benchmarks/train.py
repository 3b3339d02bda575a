"""Benchmark: Gaussian splatting forward+backward and coupled-paradigm training throughput.

Prints a markdown table. Re-run on a quiet machine; numbers on a shared CPU are noisy.

    python benchmarks/train.py                       # 10k and 100k Gaussians at 512², CPU
    python benchmarks/train.py --gaussians 100000 --threads 2 --views 1
    python benchmarks/train.py --device cuda         # also the gsplat backend when installed

Scene: Gaussians on a sphere of radius 0.4 (front and back surfaces overlap in every view, the
worst case for per-tile list lengths), seen by the rig's cameras. Peak memory is the process's
max RSS on CPU (includes the interpreter and torch, ~0.3 GB) and ``max_memory_allocated`` on CUDA.
"""

from __future__ import annotations

import argparse
import time

import torch
from _timing import peak_gb, sync

from photo3d.cameras import rig_cameras
from photo3d.gaussians import Gaussians
from photo3d.gaussians.render import render_gaussians


def sphere_scene(n: int, device: str, seed: int = 0) -> Gaussians:
    gen = torch.Generator().manual_seed(seed)
    d = torch.randn(n, 3, generator=gen)
    pts = 0.4 * d / d.norm(dim=1, keepdim=True)
    scale = 0.012 * (10_000 / n) ** 0.5  # keep the surface covered at every density
    g = Gaussians.from_points(pts, torch.rand(n, 3, generator=gen), scale=scale)
    return g.to(device).map(lambda t: t.requires_grad_(True))


def bench_render(n: int, res: int, views: int, backend: str, device: str, repeats: int) -> dict:
    g = sphere_scene(n, device)
    cams = rig_cameras(res)[:views]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    fwd, bwd = [], []
    for _ in range(repeats + 1):  # the first run warms up allocators and caches
        t0 = time.perf_counter()
        out = render_gaussians(g, cams, backend=backend)
        sync(device)
        t1 = time.perf_counter()
        out.rgb.mean().backward()
        sync(device)
        fwd.append(t1 - t0)
        bwd.append(time.perf_counter() - t1)
    mem = peak_gb(device)
    return {"what": f"render {backend}", "gaussians": n, "res": f"{res}² x{views}",
            "fwd_s": min(fwd[1:]), "bwd_s": min(bwd[1:]), "peak_gb": mem}


def bench_training(device: str, steps: int, resolution: int) -> dict:
    from photo3d.encoders import load_encoder
    from photo3d.losses import RealLoss, RealLossConfig
    from photo3d.paradigms.coupled import CoupledConfig, build_coupled
    from photo3d.train.dataset import Photo3DMVDataset

    root = __import__("pathlib").Path(__file__).resolve().parents[1] / "src" / "photo3d" / "examples" / "mv_tiny"
    ds = Photo3DMVDataset(root, resolution=resolution)
    par = build_coupled(CoupledConfig(train_decoder=True), device)
    loss = RealLoss.from_config(RealLossConfig(n_crops=2, match_size=resolution),
                                load_encoder("tiny-clip", device), load_encoder("tiny-dino", device))
    params = [p for m in par.trainable_modules().values() for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    state = par.init_state(0)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        views, aux = par.step([ds[i % len(ds)]], state)
        loss(views, aux["targets"]).backward()
        opt.step()
        opt.zero_grad()
        sync(device)
        times.append(time.perf_counter() - t0)
    per = sum(times[1:]) / steps
    return {"what": "coupled step (reference, tiny encoders)", "gaussians": "~1.9k", "res": f"{resolution}² x4",
            "fwd_s": per, "bwd_s": float("nan"), "peak_gb": float("nan"), "steps_per_s": 1 / per}



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gaussians", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--resolution", type=int, default=512)
    ap.add_argument("--views", type=int, default=1, help="cameras per render (the rig has 4)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--train-resolution", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    backends = ["torch"] + (["gsplat"] if args.device.startswith("cuda") and _has_gsplat() else [])
    for backend in backends:
        for n in args.gaussians:
            rows.append(bench_render(n, args.resolution, args.views, backend, args.device, args.repeats))
    rows.append(bench_training(args.device, args.train_steps, args.train_resolution))
    print(f"device {args.device}, {args.threads} threads, torch {torch.__version__}\n")
    print("| what | Gaussians | resolution | forward s | backward s | peak GB | steps/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['gaussians']} | {r['res']} | {r['fwd_s']:.3f} | {r['bwd_s']:.3f} | "
              f"{r['peak_gb']:.2f} | {r.get('steps_per_s', float('nan')):.2f} |")


def _has_gsplat() -> bool:
    from photo3d._optional import is_available

    return is_available("gsplat")


if __name__ == "__main__":
    main()
