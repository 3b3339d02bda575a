"""Mesh rendering: one interface, several visibility backends, differentiable shading.

Rendering is split into visibility (:func:`rasterize` -> :class:`Fragments`; backends ``torch``,
``gl``, ``nvdiffrast``) and shading (:func:`shade`, pure PyTorch, differentiable w.r.t. textures
and vertex attributes). :func:`render_views` / :func:`render_grid` render assets with the
Photo3D rig; :func:`available_backends` says what runs here. Gaussian splatting
(:func:`render_gaussians`) lives in :mod:`photo3d.gaussians` and shares :func:`resolve_backend`.
"""

from photo3d._lazy import lazy_exports
from photo3d.io.images import texture_to_tensor
from photo3d.render.backends import BACKENDS, available_backends, get_rasterizer, resolve_backend
from photo3d.render.base import Fragments, Rasterizer, RenderOutput
from photo3d.render.mesh_render import as_mesh_tensors, rasterize, render_grid, render_mesh, render_views
from photo3d.render.mesh_tensors import MeshTensors
from photo3d.render.shade import resolve_shading, sample_texture, shade

# The Gaussian front door lives in photo3d.gaussians (which imports this package): resolved lazily.
_GAUSSIANS = {"render_gaussians": "photo3d.gaussians.render", "render_gaussian_grid": "photo3d.gaussians.render"}
__getattr__, __dir__ = lazy_exports(__name__, _GAUSSIANS)

__all__ = [
    "BACKENDS",
    "Fragments",
    "MeshTensors",
    "Rasterizer",
    "RenderOutput",
    "as_mesh_tensors",
    "available_backends",
    "get_rasterizer",
    "rasterize",
    "render_gaussian_grid",
    "render_gaussians",
    "render_grid",
    "render_mesh",
    "render_views",
    "resolve_backend",
    "resolve_shading",
    "sample_texture",
    "shade",
    "texture_to_tensor",
]
