"""Baking views and Gaussians into a UV texture: one baker for every texturing paradigm.

* :func:`bake_views`: back-project views at known cameras (perspective or orthographic) onto a
  mesh's UV atlas, with our rasteriser's visibility, ``|n . v|^exponent`` view-angle weights,
  per-view weights, and inpainting of unseen texels and chart gutters.
* :func:`project_views`: the same back-projection at any surface points (no UVs needed).
* :func:`fit_texture`: fit a UV texture so the mesh render matches target renders (e.g. of 3D
  Gaussians) at fixed and random views.

:func:`bake_files` is ``photo3d bake``: views on disk + cameras -> a textured GLB.
Both bakers need a mesh with one UV atlas (:func:`photo3d.assets.single_atlas`). Light to import: the
torch-heavy parts load on first use.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.bake.config import BakeConfig

_LAZY: dict[str, str] = {
    "bake_views": "photo3d.bake.project",
    "bake_views_result": "photo3d.bake.project",
    "BakeResult": "photo3d.bake.project",
    "project_views": "photo3d.bake.project",
    "fit_texture": "photo3d.bake.fit",
    "fit_texture_result": "photo3d.bake.fit",
    "fill_unseen": "photo3d.bake.inpaint",
    "texel_surface": "photo3d.bake.texels",
    "bake_files": "photo3d.bake.files",
    "BakedFile": "photo3d.bake.files",
    "TexelSurface": "photo3d.bake.texels",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = ["BakeConfig", *_LAZY]
