"""Mesh rendering: one interface, several visibility backends, differentiable shading.

Rendering is split into visibility (:func:`rasterize` -> :class:`Fragments`; backends ``torch``,
``gl``, ``nvdiffrast``) and shading (:func:`shade`, pure PyTorch, differentiable w.r.t. textures
and vertex attributes). :func:`render_views` / :func:`render_grid` render assets with the
Photo3D rig; :func:`available_backends` says what runs here.
"""

from photo3d.render.backends import BACKENDS, available_backends, get_rasterizer, resolve_backend
from photo3d.render.base import Fragments, Rasterizer, RenderOutput
from photo3d.render.mesh_render import as_mesh_tensors, rasterize, render_grid, render_mesh, render_views
from photo3d.io.images import texture_to_tensor
from photo3d.render.mesh_tensors import MeshTensors
from photo3d.render.shade import resolve_shading, sample_texture, shade

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
    "render_grid",
    "render_mesh",
    "render_views",
    "resolve_backend",
    "resolve_shading",
    "sample_texture",
    "shade",
    "texture_to_tensor",
]
