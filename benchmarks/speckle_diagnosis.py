"""Where does the colour speckle of feature-loss enhancement come from? Controlled experiments.

Each row optimises the same degraded asset toward the same drifted reference views with L_real
(offline Inception stand-in), changing one thing at a time, and scores held-out views
(yaw 45/135/225/315 x pitch +-20) against the original texture: speckle ratio (chroma
high-frequency energy relative to the original's, 1 = the original), SSIM, PSNR, HF energy ratio,
Inception distance. Candidate causes and the experiment that tests each:

* **Adam's per-texel normalisation** (every fine-level texel steps by ~lr whatever its gradient):
  ``sgd`` (momentum SGD, step proportional to the gradient, lr set per level at the first step),
  ``level_adam`` (Adam with one second moment per pyramid level,
  :class:`photo3d.enhance.level_adam.LevelAdam`), ``adam_eps`` (Adam with a large epsilon, i.e.
  SGD-like for small gradients), ``level_lr`` (the two finest levels at 1/16 and 1/4 of the lr).
* **Adversarial encoder directions** (pixel-scale colour patterns the CNN responds to):
  ``luma_fine`` (fine levels change luminance only; chroma only on levels >= 2),
  ``grad_blur`` (gradients of each level low-passed by a 1-texel Gaussian), ``jitter`` (render
  and reference shifted together by a random 0-7 px offset every step).
* **Aliasing of bilinear texture sampling**: ``ssaa2`` (2x supersampled optimisation renders),
  ``no_band_limit`` (pyramid down to single texels).
* **Crops too small for the encoder**: ``big_crops`` (crop side 0.7-1.0 of the view).

Plus the pixel losses for reference: ``l1`` (unregistered drifted references), and
``real_then`` combinations. Writes ``<out>/speckle_diagnosis.{md,json}``.

    python benchmarks/speckle_diagnosis.py --resolution 128 --steps 40
    python benchmarks/speckle_diagnosis.py --only ycb_003_cracker_box --data /work/shared/data/assets
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

VARIANTS: dict[str, dict] = {
    "baseline": {},
    "sgd": {"optimizer": "sgd"},
    "level_adam": {"optimizer": "level_adam"},
    "adam_eps": {"eps": 1e-2},
    "level_lr": {"level_lr": 0.25},
    "luma_fine": {"luma_fine": 2},
    "grad_blur": {"grad_blur": 1.0},
    "jitter": {"jitter": 8},
    "ssaa2": {"ssaa": 2},
    "no_band_limit": {"band_limit": False},
    "big_crops": {"crop_scale": (0.7, 1.0)},
    "l1": {"loss": "l1"},
}
BUNDLED = Path(__file__).resolve().parents[1] / "src" / "photo3d" / "examples" / "ycb_004_sugar_box" / "004_sugar_box_1k.glb"


def make_textures(prep, variant: dict, finest: dict[int, int], levels: int):
    """Pyramid textures for one variant (``luma_fine`` = one channel on the finest levels)."""
    from torch import nn

    from photo3d.enhance.texture import LaplacianTexture

    params = {m: LaplacianTexture(t, levels, finest.get(m, 0)).to(prep.device) for m, t in prep.originals.items()}
    k = variant.get("luma_fine", 0)
    for p in params.values():
        for lvl in range(min(k, p.levels)):  # grey deltas change luminance, never chroma
            d = p.deltas[lvl]
            p.deltas[lvl] = nn.Parameter(torch.zeros(1, 1, *d.shape[-2:], device=d.device))
    return params


def optimiser_for(params, variant: dict, lr: float):
    groups = []
    for p in params.values():
        for lvl, d in enumerate(p.deltas):
            groups.append({"params": [d], "lr": lr * variant.get("level_lr", 1.0) ** max(0, 2 - lvl)})
    if variant.get("optimizer") == "sgd":
        # lr set per level at the first step (see calibrate_sgd): per-level, not per-texel, scaling
        return torch.optim.SGD(groups, momentum=0.9)
    if variant.get("optimizer") == "level_adam":
        from photo3d.enhance.level_adam import LevelAdam

        return LevelAdam(groups)
    return torch.optim.Adam(groups, eps=variant.get("eps", 1e-8))


def calibrate_sgd(opt, lr: float) -> None:
    """Per-level SGD learning rates so the first steps move a level's RMS like Adam's ``lr``.

    Momentum 0.9 multiplies a steady gradient's step by 10; a level whose gradient RMS is ``g``
    gets ``lr / (10 g)``: texels with small gradients then move little, unlike with Adam.
    """
    for g in opt.param_groups:
        grad = g["params"][0].grad
        rms = float(grad.square().mean().sqrt()) if grad is not None else 0.0
        g["lr"] = g["lr"] / (10.0 * rms) if rms > 0 else 0.0


def run_variant(prep, config, encoders, variant: dict, seed: int = 0):
    """Optimise one variant; returns final textures ``{m: [C,H,W]}`` and seconds."""
    from photo3d.enhance.objective import build_objective
    from photo3d.enhance.optimise import anchor_l1, current_textures, view_schedule
    from photo3d.enhance.texture import blend_seen
    from photo3d.enhance.views import FixedViews
    from photo3d.imaging.filters import gaussian_blur

    cfg = config
    torch.manual_seed(seed)
    if "crop_scale" in variant:
        cfg = replace(cfg, crop_scale_min=variant["crop_scale"][0], crop_scale_max=variant["crop_scale"][1])
    objective, _ = build_objective(cfg, encoders, registered=bool(prep.registrations))
    finest = prep.finest if variant.get("band_limit", True) else {m: 0 for m in prep.finest}
    params = make_textures(prep, variant, finest, cfg.pyramid_levels)
    views = prep.views if variant.get("ssaa", 1) == 1 else FixedViews(prep.views.mesh, prep.references.cameras,
                                                                      ssaa=variant["ssaa"])
    if variant.get("grad_blur"):
        for p in params.values():
            for d in p.deltas:
                d.register_hook(lambda g, s=variant["grad_blur"]: gaussian_blur(g, s) if g.shape[1] == 3 else g)
    opt = optimiser_for(params, variant, cfg.lr)
    schedule = view_schedule(len(views), cfg.views_per_step, cfg.steps, seed)
    gen = torch.Generator().manual_seed(seed)
    n_mat = views.mesh.num_materials
    t0 = time.perf_counter()
    for step in range(cfg.steps):
        idx = schedule[step]
        opt.zero_grad(set_to_none=True)
        rgb = views.render(current_textures(params, n_mat), idx).rgb
        target = prep.loss_targets[idx]
        if variant.get("jitter"):
            dx, dy = (int(v) for v in torch.randint(0, variant["jitter"], (2,), generator=gen))
            rgb, target = _shift(rgb, dx, dy), _shift(target, dx, dy)
        total = objective(rgb, target)["loss"] + cfg.anchor_weight * anchor_l1(params)
        total.backward()
        if step == 0 and variant.get("optimizer") == "sgd":
            calibrate_sgd(opt, cfg.lr)
        opt.step()
    with torch.no_grad():
        final = {m: blend_seen(p(), prep.originals[m], prep.masks[m]) for m, p in params.items()}
    return final, time.perf_counter() - t0


def _shift(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Translate ``[N,3,H,W]`` by (dx, dy) px, filling with white."""
    h, w = x.shape[-2:]
    return F.pad(x, (dx, 0, dy, 0), value=1.0)[..., :h, :w]


def evaluate(prep, textures, gt, encoder) -> dict:
    from photo3d.enhance.metrics import detail_metrics
    from photo3d.enhance.outputs import turntable_cameras
    from photo3d.enhance.record import render_with

    cams = turntable_cameras(prep.references.cameras.width)
    rgb, _ = render_with(prep, cams, textures)
    return detail_metrics(rgb, gt[0], gt[1] > 0.5, encoder)


def run_asset(original: Path, args, encoders, variants: list[str]) -> list[dict]:
    from photo3d.enhance import EnhanceConfig
    from photo3d.enhance.demo import build_demo_inputs
    from photo3d.enhance.outputs import turntable_cameras
    from photo3d.enhance.pipeline import load_for_enhance, prepare
    from photo3d.enhance.record import render_ground_truth, render_with
    from photo3d.enhance.references import load_references
    from photo3d.enhance.warps import STRONG_DRIFT, EditorDrift

    drift = STRONG_DRIFT if args.drift == "strong" else EditorDrift()
    rows = []
    with tempfile.TemporaryDirectory(prefix="p3d_speckle_") as tmp:
        inputs = build_demo_inputs(original, Path(tmp), args.resolution, args.seed, drift=drift)
        base = EnhanceConfig(steps=args.steps, resolution=args.resolution, lr=args.lr, n_crops=args.n_crops,
                             match_size=args.resolution, views_per_step=args.views_per_step,
                             texture_size=args.texture_size, encoders="offline", seed=args.seed,
                             turntable=False, progress=False)
        asset, notes = load_for_enhance(inputs.generated, base.texture_size)
        refs = load_references(inputs.reference, base.resolution)
        prep = prepare(asset, refs, base, torch.device("cpu"), notes)
        cams = turntable_cameras(args.resolution)
        gt = render_ground_truth(original, cams, prep.device)
        before, _ = render_with(prep, cams, None)
        from photo3d.enhance.metrics import detail_metrics

        rows.append({"asset": original.parent.name, "variant": "before",
                     "metrics": detail_metrics(before, gt[0], gt[1] > 0.5, encoders[0]), "seconds": 0.0})
        for name in variants:
            v = VARIANTS[name]
            cfg = EnhanceConfig(**{**base.to_dict(), "loss": v.get("loss", "real")})
            final, secs = run_variant(prep, cfg, encoders, v, args.seed)
            m = evaluate(prep, final, gt, encoders[0])
            rows.append({"asset": original.parent.name, "variant": name, "metrics": m, "seconds": round(secs, 1)})
            print(f"{original.parent.name:28s} {name:14s} " + " ".join(f"{k}={m[k]:.4f}" for k in sorted(m)),
                  f"{secs:.0f}s", flush=True)
    return rows


def markdown(rows: list[dict], args) -> str:
    lines = [f"# Speckle diagnosis ({args.drift} drift, {args.resolution} px, {args.steps} steps, lr {args.lr}, "
             f"{args.n_crops} crops, {args.views_per_step} views/step, L_real with the Inception stand-in)", "",
             "| asset | variant | speckle | SSIM | PSNR | HF | Inception | s |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["metrics"]
        lines.append(f"| {r['asset']} | {r['variant']} | {m['speckle_ratio']:.3f} | {m['ssim']:.4f} | {m['psnr']:.2f} | "
                     f"{m['hf_energy_ratio']:.3f} | {m['inception_distance']:.4f} | {r['seconds']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=None, help="folder of asset folders (default: the bundled sugar box)")
    p.add_argument("--only", nargs="*", default=None, help="asset folder names to run (with --data)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--drift", choices=("demo", "strong"), default="demo")
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--n-crops", type=int, default=2)
    p.add_argument("--views-per-step", type=int, default=2)
    p.add_argument("--texture-size", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = p.parse_args(argv)

    if args.data is None:
        assets = [BUNDLED]
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from detail_recovery import find_assets

        assets = [a for a in find_assets(args.data) if not args.only or a.parent.name in args.only]
    from photo3d.encoders import default_encoders
    from photo3d.io import atomic_write_json, atomic_write_text

    adapt, match, rec = default_encoders("offline")
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    tag = "" if args.data is None else "_" + "_".join(a.parent.name for a in assets)[:60]
    for asset in assets:
        rows += run_asset(asset, args, (adapt, match), args.variants)
        atomic_write_json(args.out / f"speckle_diagnosis{tag}.json",
                          {"settings": {k: str(v) for k, v in vars(args).items()}, "encoders": rec, "rows": rows})
        atomic_write_text(args.out / f"speckle_diagnosis{tag}.md", markdown(rows, args))
    print(markdown(rows, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
