"""How well does registration undo an editor's drift? Flow error against the known displacement.

For every textured asset in ``--data``: render the original at the rig, drift it
(:func:`photo3d.enhance.warps.editor_drift`; its exact source positions are known,
:func:`~photo3d.enhance.warps.drift_source`), and register the drifted views to renders of the
*degraded* ("plastic") asset, as ``photo3d enhance`` does at step 0. Reported per asset and
resolution: median and 90th-percentile end-point error over the object (pixels), the mean error
over confident pixels (weighted by the registration confidence), the same before registration,
mean confidence, views dropped, and seconds per view (4 flows: forward, backward and the mirror
test's pair).

    python benchmarks/registration.py --resolutions 128 256 512
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detail_recovery import DEFAULT_DATA, drift_params, find_assets  # noqa: E402


def measure(original: Path, resolution: int, drift: str, seed: int = 0) -> dict:
    import torch

    from photo3d.assets import load_asset
    from photo3d.cameras import rig_cameras
    from photo3d.enhance.demo import degraded_asset
    from photo3d.enhance.record import eval_ssaa
    from photo3d.enhance.registration import register, warp_views
    from photo3d.enhance.warps import drift_source, editor_drift
    from photo3d.render import render_views

    params = drift_params(drift)
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        plastic = load_asset(degraded_asset(original, Path(tmp) / "generated.glb"))
        cams = rig_cameras(resolution)
        orig = render_views(load_asset(original), cams, ssaa=eval_ssaa(resolution)).rgb
        deg = render_views(plastic, cams)
    edited = editor_drift(orig, params, seed=seed)
    src = drift_source((len(orig), resolution, resolution), params, seed) - 0.5  # pixel-index convention
    mask = deg.alpha > 0.5
    t0 = time.perf_counter()
    reg = register(deg.rgb, edited, mask)
    seconds = time.perf_counter() - t0
    ys, xs = torch.meshgrid(torch.arange(resolution).float(), torch.arange(resolution).float(), indexing="ij")
    at = warp_views(src, reg.flow, background=0.0)
    err = ((at[:, 0] - xs).square() + (at[:, 1] - ys).square()).sqrt()
    before = ((src[:, 0] - xs).square() + (src[:, 1] - ys).square()).sqrt()
    m = mask[:, 0]
    c = reg.confidence[:, 0]
    return {"asset": original.parent.name, "resolution": resolution, "drift": drift,
            "median_px": float(err[m].median()), "p90_px": float(torch.quantile(err[m], 0.9)),
            "confident_mean_px": float((err * c).sum() / c.sum().clamp_min(1e-6)),
            "before_median_px": float(before[m].median()),
            "confidence": sum(v.confidence for v in reg.views) / len(reg.views),
            "dropped": [v.view for v in reg.views if v.status != "ok"],
            "s_per_view": seconds / len(reg.views)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--resolutions", type=int, nargs="+", default=[128, 256])
    p.add_argument("--drift", choices=("demo", "strong"), default="strong")
    args = p.parse_args(argv)
    assets = [a for a in find_assets(args.data) if not args.only or a.parent.name in args.only]
    if not assets:
        print(f"no textured assets found in {args.data}; nothing to do")
        return 0
    print(f"| asset | px | median err | p90 err | confident mean err | median before | confidence | dropped | s/view |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a in assets:
        for res in args.resolutions:
            r = measure(a, res, args.drift)
            print(f"| {r['asset']} | {res} | {r['median_px']:.2f} | {r['p90_px']:.2f} | {r['confident_mean_px']:.2f} | "
                  f"{r['before_median_px']:.2f} | {r['confidence']:.2f} | {r['dropped'] or '-'} | "
                  f"{r['s_per_view']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
