"""``photo3d generate IMAGE -o OUTDIR``: image-to-3D with TRELLIS-image-large in plain PyTorch."""

from __future__ import annotations

import argparse

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.trellis.config import GenerateConfig

DESCRIPTION = """\
Turn one object image into 3D Gaussians with TRELLIS-image-large, implemented here in plain
PyTorch (no trellis package, no CUDA extension; CPU in fp32, CUDA in bf16/fp16).

The image is matted when it has no alpha (rembg when installed, else a white-background
threshold), cropped to the object x1.2 on black at 518x518 and encoded by DINOv2; the sparse
structure and the structured latent are sampled with TRELLIS's sampler settings (pipeline.json)
and decoded to 32 Gaussians per voxel. --checkpoint photo3d swaps in Photo3D's fine-tuned SLAT
flow model and Gaussian decoder.

Writes OUTDIR/gaussians.ply (3DGS/TRELLIS layout), slat.npz, grid.png (the Photo3D rig),
turntable.png, turntable.gif, condition.png and record.json (written last; says which weights
ran and marks stand-ins).
"""

EXAMPLES = """examples:
  # no weights needed: tiny random networks (a stand-in that exercises every step)
  photo3d generate photo.png -o out/ --weights tiny
  # the real model (huggingface-cli download microsoft/TRELLIS-image-large --local-dir weights/TRELLIS-image-large
  #                 and facebook/dinov2-with-registers-large for the image condition)
  photo3d generate photo.png -o out/ --weights weights/TRELLIS-image-large
  # Photo3D's fine-tuned stage 2 (huggingface-cli download LaPetitRose/Photo3D_models --include 'Trellis/*' --local-dir ck)
  photo3d generate photo.png -o out/ --weights weights/TRELLIS-image-large --checkpoint ck/Trellis
  # fewer steps, another seed, CPU
  photo3d generate photo.png -o out/ --weights weights/TRELLIS-image-large --ss-steps 12 --slat-steps 12 --seed 7 --device cpu
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` sub-command."""
    p = subparsers.add_parser("generate", help="image-to-3D with TRELLIS in plain PyTorch (Gaussians + renders)",
                              description=DESCRIPTION, epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", metavar="IMAGE", help="object image (RGBA keeps its alpha; otherwise it is matted)")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="output folder")
    add_config_arguments(p, GenerateConfig, group="model and sampling")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    """Run :func:`photo3d.trellis.generate.generate` from parsed arguments."""
    from photo3d.trellis.generate import generate

    record = generate(args.image, args.out, config_from_args(GenerateConfig, args))
    print(f"wrote {', '.join(record['files'].values())} to {args.out}")
    return 0
