"""``photo3d bake MESH --views DIR_or_GRID [--cameras JSON] -o OUT.glb``: bake views onto a mesh."""

from __future__ import annotations

import argparse

from photo3d.bake.config import BakeConfig
from photo3d.cli._args import add_config_arguments, config_from_args

DESCRIPTION = """\
Back-project views taken at known cameras onto a mesh's UV atlas and write a textured GLB. Each
texel takes the views' colours where our rasteriser sees it (silhouettes and depth edges left
out), weighted by |n.v|^exponent and per-view weights; texels no view saw are inpainted over the
surface, chart gutters are filled. Perspective and orthographic cameras (e.g. the Step1X-3D rig).

VIEWS is a folder of images with a cameras file (photo3d.cameras.Cameras.to_json; default
DIR/cameras.json; views listed in it as "views": [...] or taken in sorted filename order), or one
grid image of all views (row-major in the cameras' order; its layout follows from the aspect
ratio). A grid without --cameras must be the Photo3D rig's 2x2 grid.
"""

EPILOG = """\
examples:
  photo3d bake mesh.glb --views out/chair/views -o rebaked.glb            # what photo3d texture wrote
  photo3d bake mesh.glb --views edited_grid.png -o edited.glb              # a Photo3D rig 2x2 grid
  photo3d bake mesh.obj --views strip.png --cameras cams.json -o out.glb --uv atlas --texture-size 2048
  photo3d bake mesh.glb --views views/ --view-weights 1 .1 .5 .1 .05 .05 --exponent 4 -o out.glb
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bake`` sub-command."""
    p = subparsers.add_parser("bake", help="back-project views at known cameras onto a mesh's UV texture",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mesh", metavar="MESH", help="mesh file (GLB, glTF, OBJ, PLY...)")
    p.add_argument("--views", required=True, metavar="DIR_or_GRID", help="folder of views, or one grid image")
    p.add_argument("--cameras", metavar="JSON", default=None, help="cameras file (default VIEWS/cameras.json)")
    p.add_argument("-o", "--out", required=True, metavar="OUT.glb", help="output GLB")
    add_config_arguments(p, BakeConfig, group="baking")
    p.set_defaults(_run=run, _outputs=lambda a: [(a.out, "file")])


def run(args: argparse.Namespace) -> int:
    """Run :func:`photo3d.bake.bake_files` from parsed arguments."""
    from photo3d.bake.files import bake_files

    bake_files(args.mesh, args.views, args.out, config_from_args(BakeConfig, args), cameras=args.cameras)
    return 0
