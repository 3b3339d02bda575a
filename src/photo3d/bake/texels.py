"""The surface behind a UV atlas: for every texel on a chart, its 3D point and smooth normal.

Baking works texel by texel (a *gather*): each texel's surface point is projected into every
view, so every seen texel gets a colour however coarse or fine the views are compared with the
texture, without the holes a pixel-to-texel splat leaves. The texels are found by rasterising the
triangles in UV space (:func:`photo3d.assets.bake.uv_fragments`).

Meshes with UVs are split at UV seams, so vertex normals are computed on the *welded* mesh
(vertices merged by position): a normal does not jump across a seam, and the welded graph is what
:mod:`photo3d.bake.inpaint` diffuses colours over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from photo3d.assets.bake import uv_fragments
from photo3d.assets.mesh import Asset, Mesh
from photo3d.errors import InputError

WELD_TOLERANCE = 1e-6  # world units (the object is ~1 across): vertices closer than this are one


@dataclass
class TexelSurface:
    """The covered texels of a ``size x size`` atlas and the surface points behind them.

    Attributes:
        size: atlas side in texels.
        face: ``[T, T]`` int64 face under each texel centre, -1 off the charts.
        bary: ``[T, T, 3]`` float64 barycentrics of the texel centre in that face.
        index: ``[P]`` int64 flat indices (row-major) of the P covered texels.
        points: ``[P, 3]`` float32 world positions.
        normals: ``[P, 3]`` float32 unit normals (interpolated welded vertex normals).
        weld: ``[V]`` int64 welded vertex id of every mesh vertex.
        num_welded: number of welded vertices.
    """

    size: int
    face: np.ndarray
    bary: np.ndarray
    index: torch.Tensor
    points: torch.Tensor
    normals: torch.Tensor
    weld: np.ndarray
    num_welded: int

    @property
    def covered(self) -> np.ndarray:
        """``[T, T]`` bool, True on the charts."""
        return self.face >= 0

    @property
    def device(self) -> torch.device:
        return self.points.device


def baking_mesh(asset: Asset | Mesh, what: str = "baking") -> Mesh:
    """The mesh of ``asset``, checked to carry one UV atlas a single texture can live on.

    Raises:
        InputError: no UVs, or several materials (whose UVs may overlap).
    """
    mesh = asset.mesh if isinstance(asset, Asset) else asset
    name = asset.name if isinstance(asset, Asset) else "mesh"
    if mesh.uv is None:
        raise InputError(f"{name}: {what} needs UVs; give the mesh an atlas first with "
                         "photo3d.assets.single_atlas(asset) (or ensure_uvs), and keep that asset for export")
    used = np.unique(mesh.face_material)
    if len(used) > 1:
        raise InputError(f"{name}: {what} writes one texture, but the mesh uses {len(used)} materials whose UVs "
                         "may overlap; re-parameterise it with photo3d.assets.single_atlas(asset)")
    return mesh


def weld_vertices(vertices: np.ndarray, tolerance: float = WELD_TOLERANCE) -> tuple[np.ndarray, int]:
    """``(ids [V], n)``: vertices closer than ``tolerance`` (same grid cell) share an id."""
    key = np.round(np.asarray(vertices, np.float64) / tolerance).astype(np.int64)
    _, ids = np.unique(key, axis=0, return_inverse=True)
    ids = ids.reshape(-1)
    return ids, int(ids.max()) + 1 if len(ids) else 0


def welded_normals(vertices: np.ndarray, faces: np.ndarray, weld: np.ndarray, n: int) -> np.ndarray:
    """``[V, 3]`` area-weighted unit normals accumulated over welded vertices (smooth across seams)."""
    tri = vertices[faces].astype(np.float64)
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    acc = np.zeros((n, 3))
    for k in range(3):
        np.add.at(acc, weld[faces[:, k]], fn)
    acc /= np.clip(np.linalg.norm(acc, axis=1, keepdims=True), 1e-20, None)
    return acc[weld].astype(np.float32)


def texel_surface(asset: Asset | Mesh, size: int, device: str | torch.device = "cpu") -> TexelSurface:
    """Rasterise ``asset``'s UV atlas at ``size``² and put a surface point behind every covered texel.

    Args:
        asset: an asset (or mesh) with one UV atlas (see :func:`baking_mesh`).
        size: atlas side in texels.
        device: where the point tensors live.

    Returns:
        :class:`TexelSurface`.
    """
    if size < 2:
        raise InputError(f"texture size must be at least 2 texels, got {size}")
    mesh = baking_mesh(asset)
    weld, n = weld_vertices(mesh.vertices)
    normals = welded_normals(mesh.vertices, mesh.faces, weld, n)
    face, bary = uv_fragments(mesh.uv, mesh.faces, size)
    flat = np.flatnonzero(face >= 0)
    f = mesh.faces[face.reshape(-1)[flat]]  # [P, 3]
    b = bary.reshape(-1, 3)[flat][..., None]  # [P, 3, 1]
    points = (mesh.vertices[f].astype(np.float64) * b).sum(1)
    nrm = (normals[f].astype(np.float64) * b).sum(1)
    nrm /= np.clip(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-20, None)
    as_t = lambda a, dt=torch.float32: torch.as_tensor(np.ascontiguousarray(a), dtype=dt, device=device)  # noqa: E731
    return TexelSurface(size=size, face=face, bary=bary, index=as_t(flat, torch.int64), points=as_t(points),
                        normals=as_t(nrm), weld=weld, num_welded=n)
