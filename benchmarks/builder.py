"""Benchmark of the Photo3D-MV builder (prints a markdown table).

1. Edit throughput: samples/hour through the real edit stage (openai client, real HTTP, PNG
   decode, structure verification, cache commit) against the local fake editor at a fixed
   latency (mean +- 10% jitter), at a concurrency limit, versus the ideal bound
   ``concurrency / latency``.
2. Per-sample cost of the non-API stages (render, verify inside edit, tone, write) on the
   bundled sugar box and on a tiny mesh, from ``timings.jsonl``.
3. Resuming a finished 10,000-sample build (synthetic cached samples): the time from calling
   ``build()`` to its return when there is nothing left to do.

    python benchmarks/builder.py --quick          # 0.2 s latency, ~1 minute
    python benchmarks/builder.py                  # 2 s latency (paper-like API latency)

Timings depend on the machine's load; rerun on a quiet machine for figures to report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from photo3d.data.builder import build
from photo3d.data.cache import StageCache, dumps
from photo3d.data.config import BuildConfig, config_from_dict
from photo3d.data.sources import prompt_source
from photo3d.data.stage import Stage, StageContext
from photo3d.data.stages_grid import EditStage
from photo3d.io import encode_png
from photo3d.testing import FakeOpenAIServer

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "photo3d" / "examples" / "ycb_004_sugar_box" / "004_sugar_box_1k.glb"


class SyntheticRender(Stage):
    """Stands in for rendering: writes a fixed small grid PNG (a box per cell)."""

    name = "render"
    kind = "cpu"

    def __init__(self, size: int = 64) -> None:
        arr = np.full((size, size, 3), 255, np.uint8)
        h = size // 2
        for r in range(2):
            for c in range(2):
                arr[r * h + h // 4: r * h + 3 * h // 4, c * h + h // 5: c * h + 3 * h // 5] = (40 + 60 * r, 90, 30 + 80 * c)
        self.png = encode_png(arr)

    def process(self, ctx: StageContext) -> dict:
        from photo3d.io import atomic_write_bytes

        path = atomic_write_bytes(ctx.workdir / "grid.png", self.png)
        return {"grid": ctx.rel(path), "resolution": 32}


def bench_throughput(latency: float, concurrency: int, n: int, tmp: Path) -> dict:
    os.environ.setdefault("OPENAI_API_KEY", "sk-benchmark-0000000000")
    with FakeOpenAIServer(latency=latency, jitter=0.1 * latency) as srv:
        cfg = config_from_dict({"out": str(tmp / "tp"), "api": {"base_url": srv.base_url},
                                "executor": {"progress": False, "concurrency": {"edit": concurrency, "render": 4}}})
        stages = [SyntheticRender(), EditStage(cfg.edit, cfg.verify, cfg.api, None)]
        warm = config_from_dict({**cfg.to_dict(), "out": str(tmp / "warm")})
        build(warm, samples=prompt_source([f"warm {i}" for i in range(4)]), stages=stages)
        samples = prompt_source([f"object {i}" for i in range(n)])
        t0 = time.perf_counter()
        res = build(cfg, samples=samples, stages=stages)
        wall = time.perf_counter() - t0
        assert res.stats.finished == n, res.summary()
        assert srv.served["edits"] == n + 4
    per_hour = n / wall * 3600
    ideal = concurrency / latency * 3600
    return {"n": n, "wall_s": wall, "per_hour": per_hour, "ideal_per_hour": ideal, "ratio": per_hour / ideal}


def bench_stage_costs(tmp: Path, resolution: int) -> dict:
    import trimesh

    assets = tmp / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "sugar_box.glb").write_bytes(EXAMPLE.read_bytes())
    trimesh.creation.box(extents=(1, 0.5, 0.3)).export(assets / "tiny_box.glb")
    os.environ.setdefault("OPENAI_API_KEY", "sk-benchmark-0000000000")
    with FakeOpenAIServer() as srv:
        cfg = config_from_dict({"out": str(tmp / "stages"), "source": {"kind": "assets", "path": str(assets)},
                                "api": {"base_url": srv.base_url}, "render": {"resolution": resolution},
                                "tone": {"mode": "meanstd"}, "executor": {"progress": False}})
        build(cfg)
    out = {}
    for line in (tmp / "stages" / "timings.jsonl").read_text().splitlines():
        row = json.loads(line)
        out[row["key"]] = {k: v for k, v in row.items() if k not in ("id", "key")}
    return out


def bench_resume(n: int, tmp: Path) -> dict:
    out = tmp / "resume"
    cache = StageCache(out)
    samples = prompt_source([f"object {i}" for i in range(n)])
    names = ["render", "edit", "write"]
    t0 = time.perf_counter()
    for name in names:  # synthetic finished samples: committed records of every stage
        d = cache.stage_dir(name)
        d.mkdir(parents=True, exist_ok=True)
        for s in samples:
            (d / f"{s.key}.done.json").write_bytes(dumps({"stage": name, "seconds": 0.1, "cost_usd": 0.0,
                                                          "files": {"grid": f"grid_{s.index}.png"}}))
    make_s = time.perf_counter() - t0

    class Done(Stage):
        def __init__(self, name: str) -> None:
            self.name = name

        def process(self, ctx):  # pragma: no cover - never runs: everything is cached
            raise AssertionError("resume re-ran a finished sample")

    stages = [Done(n_) for n_ in names]
    cfg = BuildConfig(out=str(out))
    cfg.executor.progress = False
    t0 = time.perf_counter()
    first = build(cfg, samples=samples, stages=stages)  # writes the manifest once
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    samples2 = prompt_source([f"object {i}" for i in range(n)])
    again = build(cfg, samples=samples2, stages=stages)
    resume_s = time.perf_counter() - t0
    assert first.stats.skipped == n and again.stats.skipped == n and not again.finalized
    return {"n": n, "make_s": make_s, "first_finalize_s": first_s, "resume_s": resume_s}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="0.2 s latency, fewer samples")
    p.add_argument("--latency", type=float, help="fake editor latency (s)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--samples", type=int, help="samples for the throughput run")
    p.add_argument("--resume-samples", type=int, default=10_000)
    p.add_argument("--resolution", type=int, help="render resolution for the stage costs (default 512, quick 128)")
    args = p.parse_args(argv)
    latency = args.latency or (0.2 if args.quick else 2.0)
    n = args.samples or args.concurrency * (10 if args.quick else 20)
    resolution = args.resolution or (128 if args.quick else 512)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        tp = bench_throughput(latency, args.concurrency, n, tmp)
        costs = bench_stage_costs(tmp, resolution)
        rs = bench_resume(args.resume_samples, tmp)
    print(f"\n## photo3d data builder ({'quick' if args.quick else 'full'}; {os.cpu_count()} CPUs)\n")
    print("| measurement | value | goal |")
    print("|---|---|---|")
    print(f"| edit throughput, latency {latency:g} s +-10%, concurrency {args.concurrency}, {tp['n']} samples "
          f"| {tp['per_hour']:,.0f} samples/h ({tp['wall_s']:.1f} s) | ideal {tp['ideal_per_hour']:,.0f}/h |")
    print(f"| throughput / ideal | {100 * tp['ratio']:.1f}% | >= 90% |")
    for key, row in costs.items():
        parts = ", ".join(f"{k} {v:.3f}s" for k, v in row.items() if isinstance(v, (int, float)))
        total = sum(v for v in row.values() if isinstance(v, (int, float)) and v is not None)
        print(f"| non-API stage time per sample, {key} @ {resolution}px/view | {total:.2f} s ({parts}) | |")
    print(f"| resume a finished {rs['n']:,}-sample build (nothing to do) | {rs['resume_s']:.2f} s | <= 10 s |")
    print(f"| first finalize of that build (manifest of {rs['n']:,} rows) | {rs['first_finalize_s']:.2f} s | |")
    print(f"| writing the synthetic cache ({3 * rs['n']:,} records) | {rs['make_s']:.2f} s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
