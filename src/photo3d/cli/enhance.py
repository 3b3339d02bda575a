"""``photo3d enhance ASSET --reference REF -o OUTDIR``: per-asset detail enhancement."""

from __future__ import annotations

import argparse

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.enhance.config import EnhanceConfig

DESCRIPTION = """\
Make an asset's base colour photoreal from edited views: optimise its base-colour texture so its
renders match the reference views. Geometry is kept. The default objective (--loss hybrid)
registers every edited view to the render by optical flow, takes colour, tone and detail from the
pixels whose alignment is trustworthy (a confidence-weighted L1 term), and adds Photo3D's L_real
(L_adapt + L_match) for detail that survives the residual misalignment. --loss real is the
paper's objective alone; l1, l2, adapt and match are ablations (--registration on|off).

REF is an edited 2x2 grid image in the rig's layout (TL yaw 0, TR 90, BL 180, BR 270; square, any
even size), or a folder of views with cameras.json (photo3d.cameras.Cameras.to_json; the views are
listed there as "views": [...] or taken in sorted filename order).

Writes OUTDIR/enhanced.glb, grid_{before,after,reference,target,confidence}.png,
turntable_{before,after}.png, turntable.gif, texture_after.png and record.json (written last:
settings, per-view registration results, losses and seconds per step by section).
"""

EPILOG = """\
examples:
  photo3d enhance asset.glb -r edited_grid.png -o out/          # defaults: CPU-sized on a CPU
  photo3d enhance asset.glb -r edited_grid.png -o out/ --resolution 192 --steps 40   # faster
  photo3d enhance asset.glb -r views/ -o out/                   # views/*.png + views/cameras.json
  photo3d enhance asset.glb -r grid.png -o out/ --loss real --registration off   # the paper's L_real
  photo3d enhance asset.glb -r grid.png -o out/ --ground-truth original.glb      # + held-out metrics
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``enhance`` sub-command."""
    p = subparsers.add_parser("enhance", help="enhance an asset's texture from edited views",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("asset", metavar="ASSET", help="asset file (GLB, glTF, OBJ, PLY...)")
    p.add_argument("--reference", "-r", required=True, metavar="REF", help="edited 2x2 grid image or folder of views")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument("--cameras", metavar="JSON", default=None,
                   help="cameras file for a folder of views (default REF/cameras.json)")
    p.add_argument("--ground-truth", metavar="ASSET", default=None,
                   help="same asset with the true texture: adds held-out metrics to record.json")
    add_config_arguments(p, EnhanceConfig, group="optimisation")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    """Run :func:`photo3d.enhance.enhance` from parsed arguments."""
    from photo3d.enhance.pipeline import enhance

    config = config_from_args(EnhanceConfig, args)  # invalid values raise InputError (one line, exit 2)
    result = enhance(args.asset, args.reference, args.out, config, cameras=args.cameras,
                     ground_truth=args.ground_truth)
    print(f"wrote {result.files['glb']} and {len(result.files) - 1} more files to {result.out_dir}")
    metrics = result.heldout_metrics
    if metrics:
        from photo3d.enhance.demo import metrics_table

        print(metrics_table(metrics))
    return 0
