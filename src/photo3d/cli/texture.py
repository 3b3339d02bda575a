"""``photo3d texture MESH --prompt TEXT --model NAME --weights tiny|DIR -o OUTDIR``: texture a mesh."""

from __future__ import annotations

import argparse

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.texture.config import TextureConfig
from photo3d.texture.registry import texturer_help, texturer_names

DESCRIPTION = """\
Texture a mesh: a texturing model paints it (multi-view diffusion returns views at known cameras,
a feed-forward model returns 3D Gaussians on the surface), then the views are back-projected onto
a UV atlas, or a texture is fitted so the mesh render matches the Gaussians (their materials become
a metallic-roughness map). The geometry is kept exactly.

Writes OUTDIR/textured.glb, texture.png, grid.png (the Photo3D rig), turntable.png, turntable.gif,
views/ (view images + cameras.json) or gaussians.ply, and record.json (written last: what ran,
whether it was a stand-in, bake statistics).
"""

EPILOG = """\
models:
{models}

examples:
  photo3d texture chair.glb --prompt "a worn leather armchair" --model mvdiffusion --weights ~/models/step1x3d -o out/chair
  photo3d texture chair.glb --prompt "a worn leather armchair" --model feedforward --weights tiny -o out/smoke
  photo3d texture chair.glb --prompt "oak" --model testing-views --weights tiny -o out/check --texture-size 512
  photo3d texture chair.glb --prompt "oak" --image ref.png --model mvdiffusion --weights DIR --option steps=30 -o out/

--weights tiny runs a tiny random model (or a test double): a smoke run whose result is labelled a
stand-in in record.json, never the paper's model.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``texture`` sub-command."""
    models = "\n".join(f"  {name:18s} {texturer_help(name)}" for name in texturer_names())
    p = subparsers.add_parser("texture", help="texture a mesh (multi-view diffusion or feed-forward), bake to a GLB",
                              description=DESCRIPTION, epilog=EPILOG.format(models=models),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mesh", metavar="MESH", help="mesh file (GLB, glTF, OBJ, PLY...)")
    p.add_argument("--prompt", required=True, metavar="TEXT", help="text prompt")
    p.add_argument("--image", metavar="REF", default=None, help="optional reference image")
    p.add_argument("--model", required=True, choices=texturer_names(), metavar="NAME",
                   help=f"texturer: {', '.join(texturer_names())}")
    p.add_argument("--weights", required=True, metavar="tiny|DIR",
                   help="'tiny' (tiny random model, a stand-in for smoke runs) or a folder with the real weights")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="output folder")
    add_config_arguments(p, TextureConfig, group="texturing and baking")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    """Run :func:`photo3d.texture.texture_mesh` from parsed arguments."""
    from photo3d.texture.pipeline import texture_mesh

    config = config_from_args(TextureConfig, args)
    texture_mesh(args.mesh, args.prompt, args.out, args.model, args.weights, config, image=args.image)
    return 0
