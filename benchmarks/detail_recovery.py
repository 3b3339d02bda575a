"""Detail-recovery benchmark: which loss recovers a degraded texture from edited-looking views?

For every textured asset in ``--data`` (default ``/work/shared/data/assets``; skipped when
absent):

1. degrade its base colour with :func:`photo3d.enhance.degrade.plastic_degrade` (the "generated"
   asset);
2. render the *original* at the rig -> an **aligned** reference grid, and the same views after
   :func:`photo3d.enhance.warps.editor_drift` -> a **warped** reference grid (an editor's drift);
3. run ``enhance`` on the degraded asset with each loss arm (``l1``, ``l2``, ``adapt``, ``match``,
   ``real``) and each reference type;
4. score held-out views (yaw 45/135/225/315 x pitch +-20) against renders of the original:
   PSNR, SSIM, HF-energy ratio (1 = as much fine detail as the original), Inception distance.

Writes ``<out>/detail_recovery.md`` (table per asset x arm x reference + summary),
``<out>/detail_recovery.json`` and one small picture per asset and arm
(``detail_recovery_<asset>_<arm>.jpg``: warped reference | before | after rig grids).

CPU-friendly reduced run (what the results in the repository used):

    python benchmarks/detail_recovery.py --resolution 256 --steps 60 --assets 3

Re-run on a quiet machine or a GPU with larger settings for the headline numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ARMS = ("l1", "l2", "adapt", "match", "real")
REFS = ("aligned", "warped")
DEFAULT_DATA = Path("/work/shared/data/assets")


def find_assets(data: Path) -> list[Path]:
    """Textured GLB assets in ``data`` (one per folder, sorted by folder name)."""
    from photo3d.assets import load_asset
    from photo3d.errors import Photo3DError

    out = []
    if not data.is_dir():
        return out
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        for glb in sorted(folder.glob("*.glb")):
            if "draco" in glb.name:
                continue
            try:
                if load_asset(glb).mesh.is_textured:
                    out.append(glb)
                    break
            except Photo3DError as exc:
                print(f"skip {glb}: {exc}", file=sys.stderr)
    return out


def build_references(original: Path, work: Path, resolution: int, seed: int) -> dict[str, Path]:
    """``generated.glb`` plus aligned and warped reference grids for one asset."""
    import torch

    from photo3d.assets import load_asset
    from photo3d.enhance.demo import build_demo_inputs
    from photo3d.grid import compose_grid, split_grid
    from photo3d.io import save_image
    from photo3d.render import render_grid

    inputs = build_demo_inputs(original, work, resolution, seed)  # generated.glb + warped grid
    from photo3d.enhance.record import eval_ssaa

    with torch.no_grad():
        aligned = split_grid(render_grid(load_asset(original), resolution, ssaa=eval_ssaa(resolution)))
    return {"generated": inputs.generated, "warped": inputs.reference,
            "aligned": save_image(work / "aligned_grid.png", compose_grid(aligned))}


def run_asset(original: Path, args, encoders, out: Path) -> list[dict]:
    """All arms x reference types for one asset; returns result rows."""
    from photo3d.enhance import EnhanceConfig
    from photo3d.enhance.pipeline import enhance

    rows = []
    name = original.parent.name
    with tempfile.TemporaryDirectory(prefix=f"p3d_{name}_") as tmp:
        work = Path(tmp)
        refs = build_references(original, work, args.resolution, args.seed)
        for ref in args.refs:
            for arm in args.arms:
                cfg = EnhanceConfig(steps=args.steps, resolution=args.resolution, loss=arm, lr=args.lr,
                                    n_crops=args.n_crops, match_size=args.resolution, views_per_step=args.views_per_step,
                                    texture_size=args.texture_size, encoders="offline", seed=args.seed,
                                    turntable=False, progress=False)
                t0 = time.perf_counter()
                res = enhance(refs["generated"], refs[ref], work / f"{ref}_{arm}", cfg, ground_truth=original,
                              encoders=encoders, log=None)
                m = res.heldout_metrics
                rows.append({"asset": name, "reference": ref, "arm": arm, "before": m["before"], "after": m["after"],
                             "seconds": round(time.perf_counter() - t0, 1)})
                print(f"{name:34s} {ref:8s} {arm:6s} " + "  ".join(
                    f"{k}={m['after'][k]:.4f}" for k in ("psnr", "ssim", "hf_energy_ratio", "inception_distance")),
                    flush=True)
                if ref == "warped":
                    save_example(out / f"detail_recovery_{name}_{arm}.jpg", refs[ref], work / f"{ref}_{arm}")
    return rows


def save_example(path: Path, reference: Path, run_dir: Path, size: int = 256) -> None:
    """Reference | before | after grids side by side, ``size`` px high, as a small JPEG."""
    import io

    from PIL import Image

    from photo3d.io import atomic_write_bytes

    ims = [Image.open(p).convert("RGB").resize((size, size), Image.LANCZOS)
           for p in (reference, run_dir / "grid_before.png", run_dir / "grid_after.png")]
    canvas = Image.new("RGB", (3 * size + 8, size), "white")
    for i, im in enumerate(ims):
        canvas.paste(im, (i * (size + 4), 0))
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG", quality=85)
    atomic_write_bytes(path, buf.getvalue())


def hf_score(ratio: float) -> float:
    """Distance of an HF-energy ratio from the original's (1), symmetric in log space."""
    return abs(math.log(max(ratio, 1e-6)))


def markdown(rows: list[dict], args) -> str:
    """The results table and the L_real-vs-L2 summary."""
    lines = [f"# Detail recovery (resolution {args.resolution}, {args.steps} steps, texture {args.texture_size or 'own'}, "
             f"offline Inception stand-in encoders)", "",
             "Held-out views (yaw 45/135/225/315, pitch +-20) vs renders of the original texture. "
             "HF = high-frequency energy ratio (1 = original's detail); Inc = Inception cosine distance.", "",
             "| asset | reference | arm | PSNR before | PSNR after | SSIM before | SSIM after | HF before | HF after "
             "| Inc before | Inc after | s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b, a = r["before"], r["after"]
        lines.append(f"| {r['asset']} | {r['reference']} | {r['arm']} | {b['psnr']:.2f} | {a['psnr']:.2f} | "
                     f"{b['ssim']:.4f} | {a['ssim']:.4f} | {b['hf_energy_ratio']:.3f} | {a['hf_energy_ratio']:.3f} | "
                     f"{b['inception_distance']:.4f} | {a['inception_distance']:.4f} | {r['seconds']} |")
    lines += ["", "## Summary: warped references, L_real vs L2", ""]
    by = {(r["asset"], r["reference"], r["arm"]): r["after"] for r in rows}
    assets = sorted({r["asset"] for r in rows})
    pairs = [(by.get((a, "warped", "real")), by.get((a, "warped", "l2"))) for a in assets]
    pairs = [(x, y) for x, y in pairs if x and y]
    hf = sum(hf_score(x["hf_energy_ratio"]) < hf_score(y["hf_energy_ratio"]) for x, y in pairs)
    inc = sum(x["inception_distance"] < y["inception_distance"] for x, y in pairs)
    psnr = sum(x["psnr"] > y["psnr"] for x, y in pairs)
    lines.append(f"- HF energy ratio closer to 1 with L_real than with L2: {hf} of {len(pairs)} assets")
    lines.append(f"- lower Inception distance with L_real than with L2: {inc} of {len(pairs)} assets")
    lines.append(f"- higher PSNR with L_real than with L2: {psnr} of {len(pairs)} assets")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of asset folders")
    p.add_argument("--assets", type=int, default=0, help="use only the first N textured assets (0 = all)")
    p.add_argument("--only", nargs="*", default=None, help="asset folder names to run")
    p.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    p.add_argument("--refs", nargs="+", default=list(REFS), choices=REFS)
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--n-crops", type=int, default=4)
    p.add_argument("--views-per-step", type=int, default=2)
    p.add_argument("--texture-size", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = p.parse_args(argv)

    assets = find_assets(args.data)
    if args.only:
        assets = [a for a in assets if a.parent.name in args.only]
    if args.assets:
        assets = assets[: args.assets]
    if not assets:
        print(f"no textured assets found in {args.data}; nothing to do")
        return 0
    from photo3d.encoders import default_encoders
    from photo3d.io import atomic_write_json, atomic_write_text

    adapt, match, rec = default_encoders("offline")
    print(f"encoders: {rec['adapt']['name']}; assets: {[a.parent.name for a in assets]}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for asset in assets:
        rows += run_asset(asset, args, (adapt, match), args.out)
        # rewrite after every asset so a long run leaves usable partial results
        atomic_write_json(args.out / "detail_recovery.json", {"settings": {k: str(v) for k, v in vars(args).items()},
                                                               "encoders": rec, "rows": rows})
        atomic_write_text(args.out / "detail_recovery.md", markdown(rows, args))
    print(markdown(rows, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
