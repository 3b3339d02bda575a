"""Benchmark the realistic-detail losses (not a test; timings depend on the machine).

    python benchmarks/losses.py            # full
    python benchmarks/losses.py --quick    # fewer repeats, shorter naive-loop sample

Reports, as markdown tables:
1. L_match from tokens (D = 1024, pred tokens = permuted noisy copies of the target's) for
   196, 1,764 and 4,096 tokens per view: forward+backward time of both rules, the cost of the
   similarity matrix S alone (matmul forward+backward), and the released code's naive
   repeated-argmax loop (re-implemented here). Where the naive loop would take too long, a few
   of its iterations are timed and the total is extrapolated (labelled "extrapolated").
2. L_adapt at 4 views x 8 crops (512x512 views) with the tiny CLIP and the Inception stand-in.

Memory: peak CUDA memory on a GPU; on CPU the growth of the process's peak RSS
(``ru_maxrss``), which only rises, so run sizes in increasing order (as here).
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
import torch.nn.functional as F

from photo3d.device import resolve_device
from photo3d.losses.adapt import adapt_loss
from photo3d.losses.match import match_loss_from_tokens
from photo3d.losses.matching import greedy_assignment


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return min(times)


def _naive_loss(p: torch.Tensor, t: torch.Tensor, max_iters: int | None) -> tuple[float, bool]:
    """Released-code loop on one view; returns (seconds, extrapolated?)."""
    p = p.detach().requires_grad_()
    start = time.perf_counter()
    sim = p @ t.T
    s = sim.detach().clone()
    k = min(s.shape)
    iters = k if max_iters is None else min(k, max_iters)
    vals = []
    for _ in range(iters):
        idx = int(torch.argmax(s))
        r, c = divmod(idx, s.shape[1])
        vals.append(sim[r, c])
        s[r, :] = -1e9
        s[:, c] = -1e9
    (1 - torch.stack(vals).mean()).backward()
    elapsed = time.perf_counter() - start
    return (elapsed * k / iters, True) if iters < k else (elapsed, False)


def bench_match(sizes, repeats, naive_budget_iters, device) -> list[str]:
    rows = ["| tokens/view | S fwd+bwd | nn fwd+bwd | greedy fwd+bwd | greedy assignment only | naive loop fwd+bwd | naive / greedy | greedy / S | peak mem (MB) |",
            "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    g = torch.Generator().manual_seed(0)
    for n in sizes:
        tgt = F.normalize(torch.randn(1, n, 1024, generator=g), dim=-1).to(device)
        perm = torch.randperm(n, generator=g)
        pred0 = F.normalize(tgt[:, perm].cpu() + 0.5 * torch.randn(1, n, 1024, generator=g) / 32**0.5, dim=-1).to(device)

        def run_s():
            p = pred0.clone().requires_grad_()
            (p[0] @ tgt[0].T).mean().backward()

        def run(rule):
            p = pred0.clone().requires_grad_()
            match_loss_from_tokens(p, tgt, rule).backward()

        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        t_s = _timed(run_s, repeats, device)
        t_nn = _timed(lambda: run("nn"), repeats, device)
        t_gr = _timed(lambda: run("greedy"), repeats, device)
        sim = pred0[0] @ tgt[0].T
        t_assign = _timed(lambda: greedy_assignment(sim), repeats, device)
        peak = _peak_mb(device)
        budget = None if n <= 1764 and naive_budget_iters is None else naive_budget_iters
        t_naive, extrap = _naive_loss(pred0[0], tgt[0], budget if n > 196 else None)
        label = f"{t_naive:.2f} s" + (" (extrapolated)" if extrap else "")
        rows.append(
            f"| {n:,} | {t_s * 1e3:.0f} ms | {t_nn * 1e3:.0f} ms | {t_gr * 1e3:.0f} ms | {t_assign * 1e3:.0f} ms "
            f"| {label} | {t_naive / t_gr:.0f}x | {t_gr / t_s:.1f}x | {peak:.0f} |"
        )
        print(rows[-1], flush=True)
    return rows


def bench_adapt(names, repeats, device) -> list[str]:
    from photo3d.encoders import load_encoder

    rows = ["| encoder | views x crops | crop input | fwd+bwd | peak mem (MB) |", "|---|---|---|---|---|"]
    pred0 = torch.rand(4, 3, 512, 512, device=device)
    target = torch.rand(4, 3, 512, 512, device=device)
    for name in names:
        enc = load_encoder(name, device=device)

        def run():
            p = pred0.clone().requires_grad_()
            adapt_loss(p, target, enc, n_crops=8, generator=torch.Generator().manual_seed(0)).backward()

        t = _timed(run, repeats, device)
        rows.append(f"| {enc.name} | 4 x 8 | {enc.input_size} | {t:.2f} s | {_peak_mb(device):.0f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 repeat, 30 naive iterations at 4,096 tokens")
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    ap.add_argument("--sizes", type=int, nargs="+", default=[196, 1764, 4096])
    ap.add_argument("--skip-adapt", action="store_true")
    args = ap.parse_args()
    device = resolve_device(args.device)
    repeats = 1 if args.quick else 3
    torch.manual_seed(0)
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}\n")
    print("## L_match (1 view, D=1024)\n")
    match_rows = bench_match(args.sizes, repeats, 30 if args.quick else 200, device)
    adapt_rows = [] if args.skip_adapt else (print("\n## L_adapt\n") or bench_adapt(["tiny-clip", "inception-fid"], repeats, device))
    print("\n" + "\n".join(match_rows))
    if adapt_rows:
        print("\n" + "\n".join(adapt_rows))


if __name__ == "__main__":
    main()
