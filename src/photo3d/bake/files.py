"""``bake_files``: views on disk + their cameras -> a textured GLB (what ``photo3d bake`` runs).

Views are read as

* a **folder** of images with a cameras file (:meth:`photo3d.cameras.Cameras.to_json`, default
  ``DIR/cameras.json``; views listed in it or taken in sorted order, as
  :func:`photo3d.enhance.references.load_references` reads them), or
* one **grid image** of all the views: with a cameras file its layout (rows x cols) follows from
  the image's aspect ratio and the view count (views row-major, in the cameras' order); without
  one it must be the Photo3D rig's 2x2 grid.

A cameras file may carry ``"view_weights"`` (``photo3d texture`` writes Step1X-3D's); the
``--view-weights`` option overrides them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from photo3d.bake.config import BakeConfig
from photo3d.errors import Photo3DError, ReferenceMismatchError
from photo3d.io.output import open_output


@dataclass
class BakedFile:
    """What :func:`bake_files` wrote: the GLB and the bake's statistics."""

    glb: Path
    stats: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def bake_files(mesh_path: str | Path, views: str | Path, out_path: str | Path, config: BakeConfig | None = None,
               cameras: str | Path | None = None, log: Callable[[str], None] | None = print) -> BakedFile:
    """Bake ``views`` (folder or grid image, see module docs) onto ``mesh_path`` and write ``out_path`` (GLB).

    Raises:
        Photo3DError: missing or mismatched files (one line).
    """
    from photo3d.assets import export_glb, load_asset, single_atlas
    from photo3d.bake.project import bake_views_result
    from photo3d.io import to_uint8
    from photo3d.texture.outputs import textured_asset

    config = config or BakeConfig()
    say = log or (lambda _msg: None)
    mesh_path = Path(mesh_path)
    if not mesh_path.is_file():
        raise Photo3DError(f"{mesh_path}: mesh file not found")
    with open_output(out_path, "file") as out:  # probed and locked before any work
        images, cams, doc = load_views(views, cameras)
        asset = load_asset(mesh_path)
        notes = []
        materials = len(set(asset.mesh.face_material.tolist()))
        if config.uv == "keep" and asset.mesh.uv is not None and materials > 1:
            raise Photo3DError(f"{mesh_path}: --uv keep bakes one texture, but the mesh has {materials} materials "
                               "whose UVs may overlap; use --uv atlas")
        if config.uv == "atlas" or asset.mesh.uv is None:
            if config.uv == "keep":
                notes.append("the mesh has no UVs: baked into a fresh xatlas atlas")
            asset = single_atlas(asset, config.texture_size)
        weights = list(config.view_weights) or doc.get("view_weights")
        res = bake_views_result(asset, images, cams, config.texture_size, weights, config.exponent,
                                min_cos=config.min_cos,
                                edge_margin=None if config.edge_margin < 0 else config.edge_margin,
                                backend=config.backend, progress=True)
        tex = to_uint8(res.texture)
        export_glb(textured_asset(asset, tex), out.file, {0: tex})
    glb = out.target
    for note in notes:
        say(f"note: {note}")
    say(f"baked {len(cams)} views into a {config.texture_size}² texture ({res.stats['seen_of_covered']:.0%} of the "
        f"surface seen, the rest inpainted) -> {glb}")
    return BakedFile(glb, res.stats, notes)


def load_views(views: str | Path, cameras: str | Path | None = None) -> tuple[torch.Tensor, object, dict]:
    """``(images [V, 3, H, W], cameras, cameras document)`` from a folder or a grid image."""
    from photo3d.cameras import rig_cameras
    from photo3d.enhance.references import load_references
    from photo3d.grid import split_grid
    from photo3d.io import load_image

    views = Path(views)
    if views.is_dir():
        cam_path = Path(cameras) if cameras else views / "cameras.json"
        cams, doc = _cameras(cam_path)
        refs = load_references(views, max(cams.width, cams.height), cam_path)
        return refs.views, refs.cameras, doc
    if not views.is_file():
        raise Photo3DError(f"{views}: views not found; pass a folder of views with cameras.json or a grid image")
    grid = load_image(views, "RGB", background=(1.0, 1.0, 1.0))
    _, gh, gw = grid.shape
    if cameras is None:
        if gh != gw or gh % 2:
            raise ReferenceMismatchError(f"{views}: without --cameras a grid must be the Photo3D rig's square 2x2 "
                                         f"grid, got {gw}x{gh}")
        return split_grid(grid, 2, 2), rig_cameras(gh // 2), {}
    cams, doc = _cameras(Path(cameras))
    rows, cols = grid_layout(gw, gh, len(cams), cams.width / cams.height)
    if rows == 0:
        raise ReferenceMismatchError(f"{views}: a {gw}x{gh} image does not split into {len(cams)} views of the "
                                     f"cameras' aspect ratio {cams.width}:{cams.height}")
    return split_grid(grid, rows, cols), cams.resized(gw // cols, gh // rows), doc


def grid_layout(width: int, height: int, n: int, aspect: float) -> tuple[int, int]:
    """``(rows, cols)`` with ``rows * cols = n`` splitting a ``width x height`` image into equal cells
    of ``aspect`` (w / h); ``(0, 0)`` when none fits."""
    for rows in range(1, n + 1):
        cols = n // rows
        if rows * cols != n or width % cols or height % rows:
            continue
        if abs((width / cols) / (height / rows) - aspect) <= 0.01 * aspect:
            return rows, cols
    return 0, 0


def _cameras(path: Path):
    from photo3d.cameras import load_cameras

    if not path.is_file():
        raise Photo3DError(f"{path}: cameras file not found (write it with photo3d.cameras.Cameras.to_json)")
    return load_cameras(path)
