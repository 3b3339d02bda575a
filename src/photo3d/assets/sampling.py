"""Seeded, area-weighted sampling of points on a mesh surface (with their face normals)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from photo3d.errors import AssetError


@dataclass
class SurfaceSamples:
    """Points drawn uniformly by area from a triangle mesh.

    Attributes:
        points: ``[N, 3]`` float64 positions.
        normals: ``[N, 3]`` float64 unit normals of the faces they lie on (winding order).
        face: ``[N]`` int64 face index of each point.
        bary: ``[N, 3]`` float64 barycentric coordinates in that face.
    """

    points: np.ndarray
    normals: np.ndarray
    face: np.ndarray
    bary: np.ndarray


def sample_surface(mesh, n: int, seed: int = 0) -> SurfaceSamples:
    """Sample ``n`` points uniformly by area on ``mesh`` (reproducible for a given ``seed``).

    Faces are drawn with probability proportional to their area, then a point uniformly inside
    the triangle (square-root barycentric warp); normals are the faces' geometric normals.

    Args:
        mesh: a :class:`photo3d.assets.mesh.Mesh` (anything with ``vertices [V, 3]`` and
            ``faces [F, 3]``).
        n: number of points.
        seed: seed of the ``numpy`` generator.

    Returns:
        :class:`SurfaceSamples`.

    Raises:
        AssetError: the mesh has no faces or zero surface area.
    """
    v, f = np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64)
    if len(f) == 0:
        raise AssetError("cannot sample the surface of a mesh with no faces")
    rng = np.random.default_rng(seed)
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1)
    total = area.sum()
    if not np.isfinite(total) or total <= 0:
        raise AssetError(f"cannot sample the surface of a mesh with zero area ({len(f)} degenerate faces)")
    face = rng.choice(len(f), n, p=area / total)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    bary = np.stack([1 - s, s * (1 - r2), s * r2], 1)
    points = np.einsum("nk,nkd->nd", bary, tri[face])
    normals = cross[face] / np.maximum(area[face, None], 1e-12)
    return SurfaceSamples(points=points, normals=normals, face=face, bary=bary)
