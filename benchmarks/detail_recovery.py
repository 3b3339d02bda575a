"""Detail-recovery benchmark: which objective recovers a degraded texture from edited-looking views?

For every textured asset in ``--data`` (default ``/work/shared/data/assets``; skipped when
absent):

1. degrade its base colour with :func:`photo3d.enhance.degrade.plastic_degrade` (the "generated"
   asset);
2. render the *original* at the rig and apply an editor's drift (:mod:`photo3d.enhance.warps`) at
   two strengths: ``demo`` (the demo's: +-1 deg, +-1 % scale, 2 px shift, 3 px local displacements,
   colour gain/offset) and ``strong`` (:data:`~photo3d.enhance.warps.STRONG_DRIFT`: +-3 deg,
   +-3 % scale, +-2 % shift, 4 px local displacements, white balance, exposure, a lighting ramp);
3. run ``enhance`` on the degraded asset with each arm: the paper's single objectives ``l1``,
   ``l2``, ``real`` (registration off, as the paper's arms), the default ``hybrid`` (registered
   confidence-weighted L1 + L_real, :mod:`photo3d.enhance.objective`), and optionally the single
   objectives with registration on (``l1+reg``, ``l2+reg``, ``real+reg``);
4. score held-out views (yaw 45/135/225/315 x pitch +-20) against renders of the original: PSNR,
   SSIM, HF-energy ratio (1 = the original's fine detail), Inception distance, speckle ratio
   (chroma high-frequency energy relative to the original's, :mod:`photo3d.enhance.speckle`).

Writes ``<out>/detail_recovery.md`` (the whole table, the checks of the default against the input
and against each arm), ``<out>/detail_recovery.json`` and one picture per asset and drift level
(``detail_recovery_<asset>_<drift>.jpg``: reference | before | each arm, rig grids).
Seconds are CPU seconds of this process (wall time on a shared machine says little).

The Inception-v3 stand-in is both a loss encoder (``real``, ``hybrid``) and the Inception-distance
metric here, so that column is circular for those arms; SSIM, PSNR and the speckle ratio are not.

Reduced CPU run (what BENCHMARKS.md reports):

    python benchmarks/detail_recovery.py --resolution 128 --steps 40 --texture-size 512
    python benchmarks/detail_recovery.py --drifts strong --only ycb_003_cracker_box --resolution 256 --steps 60
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ARMS: dict[str, dict] = {
    "l1": {"loss": "l1"},
    "l2": {"loss": "l2"},
    "real": {"loss": "real"},
    "hybrid": {"loss": "hybrid"},
    "l1+reg": {"loss": "l1", "registration": "on"},
    "l2+reg": {"loss": "l2", "registration": "on"},
    "real+reg": {"loss": "real", "registration": "on"},
}
DEFAULT_ARMS = ("l1", "l2", "real", "hybrid")
DRIFTS = ("demo", "strong")
METRICS = ("psnr", "ssim", "hf_energy_ratio", "inception_distance", "speckle_ratio")
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


def drift_params(name: str):
    from photo3d.enhance.warps import STRONG_DRIFT, EditorDrift

    return STRONG_DRIFT if name == "strong" else EditorDrift()


def build_inputs(original: Path, work: Path, resolution: int, seed: int, drifts) -> dict[str, Path]:
    """``generated`` (degraded asset) and one drifted reference grid per drift level."""
    from photo3d.enhance.demo import degraded_asset, drifted_grid

    out = {"generated": degraded_asset(original, work / "generated.glb")}
    for d in drifts:
        out[d] = drifted_grid(original, work / f"reference_{d}.png", resolution, drift_params(d), seed)
    return out


def run_asset(original: Path, args, encoders, out: Path) -> list[dict]:
    """All arms x drift levels for one asset; returns result rows."""
    from photo3d.enhance import EnhanceConfig
    from photo3d.enhance.outputs import turntable_cameras
    from photo3d.enhance.pipeline import enhance
    from photo3d.enhance.record import render_ground_truth

    rows = []
    name = original.parent.name
    with tempfile.TemporaryDirectory(prefix=f"p3d_{name}_") as tmp:
        work = Path(tmp)
        inputs = build_inputs(original, work, args.resolution, args.seed, args.drifts)
        gt = render_ground_truth(original, turntable_cameras(args.resolution), "cpu")
        runs: dict[str, dict[str, Path]] = {}
        for drift in args.drifts:
            for arm in args.arms:
                extra = {"lr": args.lr} if args.lr else {}
                cfg = EnhanceConfig(steps=args.steps, resolution=args.resolution, n_crops=args.n_crops, **extra,
                                    match_size=args.resolution, views_per_step=args.views_per_step,
                                    texture_size=args.texture_size, encoders="offline", seed=args.seed,
                                    turntable=False, progress=False, force=True, **ARMS[arm])
                run_dir = work / f"{drift}_{arm}"
                t0, c0 = time.perf_counter(), time.process_time()
                res = enhance(inputs["generated"], inputs[drift], run_dir, cfg, ground_truth=gt, encoders=encoders,
                              log=None)
                m = res.heldout_metrics
                reg = res.record.get("registration", {})
                rows.append({"asset": name, "drift": drift, "arm": arm, "before": m["before"], "after": m["after"],
                             "cpu_s": round(time.process_time() - c0, 1), "wall_s": round(time.perf_counter() - t0, 1),
                             "dropped_views": reg.get("dropped_views", []),
                             "check_failed": _failed_views(res.record),
                             "per_step": res.record["timing"].get("per_step", {})})
                runs.setdefault(drift, {})[arm] = run_dir
                print(f"{name:34s} {drift:6s} {arm:8s} " + "  ".join(f"{k}={m['after'][k]:.4f}" for k in METRICS),
                      f"cpu {rows[-1]['cpu_s']}s", flush=True)
        for drift, arm_dirs in runs.items():
            save_picture(out / f"detail_recovery_{name}_{drift}.jpg", inputs, {drift: arm_dirs}, args.arms)
    return rows


def _failed_views(record: dict) -> list[int]:
    """Reference views the structure check would have refused (the benchmark's references are the
    drifted original, so it runs with ``force``; a tiny near-white object can fail the check)."""
    check = record.get("reference", {}).get("check") or {}
    return [i for i, v in enumerate(check.get("views", [])) if not v.get("passed", True)]


def save_picture(path: Path, inputs: dict[str, Path], runs: dict[str, dict[str, Path]], arms, size: int = 224) -> None:
    """One row per drift: reference | before | each arm (rig grids), labelled, as a JPEG."""
    import io

    from PIL import Image, ImageDraw

    from photo3d.io import atomic_write_bytes
    from photo3d.io.images import open_pil

    cols = ["reference", "before", *arms]
    label_h = 16
    canvas = Image.new("RGB", (len(cols) * (size + 4), len(runs) * (size + label_h)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (drift, arm_dirs) in enumerate(runs.items()):
        first = next(iter(arm_dirs.values()))
        files = [inputs[drift], first / "grid_before.png", *[arm_dirs[a] / "grid_after.png" for a in arms]]
        y = r * (size + label_h)
        for c, (label, f) in enumerate(zip(cols, files)):
            canvas.paste(open_pil(f).resize((size, size), Image.LANCZOS), (c * (size + 4), y + label_h))
            draw.text((c * (size + 4) + 2, y + 2), f"{drift}: {label}" if c == 0 else label, fill=(0, 0, 0))
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG", quality=85)
    atomic_write_bytes(path, buf.getvalue())


def improves(after: dict, before: dict) -> dict[str, bool]:
    """Which of the four quality measures ``after`` improves over ``before`` (HF: closer to 1)."""
    from photo3d.enhance.demo import goal_met

    return {k: goal_met(k, before[k], after[k]) for k in ("psnr", "ssim", "inception_distance", "hf_energy_ratio")}


def checks(rows: list[dict], drift: str, default: str = "hybrid") -> list[str]:
    """The default arm against the input and against every other arm, one line each."""
    by = {(r["asset"], r["drift"], r["arm"]): r for r in rows}
    assets = sorted({r["asset"] for r in rows if r["drift"] == drift and r["arm"] == default})
    if not assets:
        return []
    n = len(assets)
    lines = []
    all_four = [a for a in assets if all(improves(by[(a, drift, default)]["after"], by[(a, drift, default)]["before"]).values())]
    lines.append(f"- {default} improves on the degraded input on all four of PSNR, SSIM, Inception distance and HF "
                 f"ratio: **{len(all_four)} of {n}** assets" + _missing(assets, all_four))
    for key in ("psnr", "ssim", "inception_distance", "hf_energy_ratio"):
        ok = [a for a in assets if improves(by[(a, drift, default)]["after"], by[(a, drift, default)]["before"])[key]]
        lines.append(f"  - {key}: {len(ok)} of {n}" + _missing(assets, ok))
    others = sorted({r["arm"] for r in rows if r["drift"] == drift} - {default})
    for arm in others:
        pairs = [a for a in assets if (a, drift, arm) in by]
        both = [a for a in pairs if by[(a, drift, default)]["after"]["ssim"] > by[(a, drift, arm)]["after"]["ssim"]
                and by[(a, drift, default)]["after"]["inception_distance"]
                < by[(a, drift, arm)]["after"]["inception_distance"]]
        lines.append(f"- {default} beats {arm} on both SSIM and Inception distance: **{len(both)} of {len(pairs)}**"
                     + _missing(pairs, both))
    speck = [by[(a, drift, default)]["after"]["speckle_ratio"] for a in assets]
    lines.append(f"- {default} speckle ratio (1 = the original's chroma detail): max {max(speck):.3f}, "
                 f"<= 1.2 on **{sum(s <= 1.2 for s in speck)} of {n}** assets")
    return lines


def _missing(assets: list[str], ok: list[str]) -> str:
    miss = [a for a in assets if a not in ok]
    return f" (not: {', '.join(miss)})" if miss else ""


def markdown(rows: list[dict], args) -> str:
    """The results table and the checks."""
    lines = [f"# Detail recovery ({args.resolution} px, {args.steps} steps, texture {args.texture_size or 'own'}, "
             f"{args.n_crops} crops, {args.views_per_step} views/step, offline Inception stand-in encoders)", "",
             "Held-out views (yaw 45/135/225/315, pitch +-20) vs renders of the original texture. HF = high-frequency "
             "energy ratio (1 = the original's detail); Inc = Inception cosine distance; speckle = chroma HF energy "
             "ratio (1 = the original's). `+reg` = registration on. CPU s = CPU seconds of the run.", "",
             "| asset | drift | arm | PSNR | SSIM | HF | Inc | speckle | CPU s |", "|---|---|---|---|---|---|---|---|---|"]
    seen = set()
    for r in rows:
        key = (r["asset"], r["drift"])
        if key not in seen:
            seen.add(key)
            b = r["before"]
            lines.append(f"| {r['asset']} | {r['drift']} | *before* | {b['psnr']:.2f} | {b['ssim']:.4f} | "
                         f"{b['hf_energy_ratio']:.3f} | {b['inception_distance']:.4f} | {b['speckle_ratio']:.3f} | |")
        a = r["after"]
        drop = f" (dropped views {r['dropped_views']})" if r.get("dropped_views") else ""
        drop += f" (check failed on views {r['check_failed']})" if r.get("check_failed") else ""
        lines.append(f"| {r['asset']} | {r['drift']} | {r['arm']}{drop} | {a['psnr']:.2f} | {a['ssim']:.4f} | "
                     f"{a['hf_energy_ratio']:.3f} | {a['inception_distance']:.4f} | {a['speckle_ratio']:.3f} | "
                     f"{r['cpu_s']} |")
    for drift in args.drifts:
        body = checks(rows, drift)
        if body:
            lines += ["", f"## Checks, {drift} drift", "", *body]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of asset folders")
    p.add_argument("--assets", type=int, default=0, help="use only the first N textured assets (0 = all)")
    p.add_argument("--only", nargs="*", default=None, help="asset folder names to run")
    p.add_argument("--arms", nargs="+", default=list(DEFAULT_ARMS), choices=list(ARMS))
    p.add_argument("--drifts", nargs="+", default=list(DRIFTS), choices=DRIFTS)
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--lr", type=float, default=0.0, help="0 = the enhance default")
    p.add_argument("--n-crops", type=int, default=2)
    p.add_argument("--views-per-step", type=int, default=2)
    p.add_argument("--texture-size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    p.add_argument("--tag", default="", help="suffix of the output file names (parallel runs)")
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
    stem = "detail_recovery" + (f"_{args.tag}" if args.tag else "")
    rows: list[dict] = []
    for asset in assets:
        rows += run_asset(asset, args, (adapt, match), args.out)
        # rewrite after every asset so a long run leaves usable partial results
        atomic_write_json(args.out / f"{stem}.json", {"settings": {k: str(v) for k, v in vars(args).items()},
                                                       "encoders": rec, "rows": rows})
        atomic_write_text(args.out / f"{stem}.md", markdown(rows, args))
    print(markdown(rows, args))
    return 0


def merge(paths: list[Path], out: Path) -> None:
    """Merge the JSON results of parallel runs (``--tag``) into ``out`` (.json + .md)."""
    from photo3d.io import atomic_write_json, atomic_write_text

    docs = [json.loads(p.read_text()) for p in paths]
    rows = [r for d in docs for r in d["rows"]]
    s = docs[0]["settings"]
    args = argparse.Namespace(resolution=s["resolution"], steps=s["steps"], texture_size=s["texture_size"],
                              n_crops=s["n_crops"], views_per_step=s["views_per_step"],
                              drifts=[d for d in DRIFTS if any(r["drift"] == d for r in rows)])
    atomic_write_json(out.with_suffix(".json"), {"settings": s, "encoders": docs[0]["encoders"], "rows": rows})
    atomic_write_text(out.with_suffix(".md"), markdown(rows, args))


if __name__ == "__main__":
    sys.exit(main())
