"""Source coordinates -> the world frame (Z up, centred, longest side 1; see :mod:`photo3d.cameras`).

Y-up sources (glTF always; OBJ and the other formats by default, the common convention) map by
``(x, y, z) -> (x, -z, y)``, so a glTF front (+Z) faces -Y. Z-up sources (``up="z"``, e.g.
Blender-style exports with the front facing -Y) keep their axes. Then the bounding box is
centred at the origin and scaled uniformly so that its longest side is 1.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from photo3d.assets.mesh import Asset
from photo3d.errors import AssetError, InputError

Up = Literal["y", "z"]

# glTF / Y-up -> world (Z-up): (x, y, z) -> (x, -z, y)
Y_UP_TO_WORLD = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float64)


def axis_matrix(up: Up) -> np.ndarray:
    """``[4, 4]`` rotation taking a ``up``-up source frame to the Z-up world axes."""
    if up == "y":
        return Y_UP_TO_WORLD.copy()
    if up == "z":
        return np.eye(4)
    raise InputError(f"up must be 'y' or 'z', got {up!r}")


def fit_matrix(vertices: np.ndarray) -> np.ndarray:
    """``[4, 4]`` similarity centring the bounding box of ``[V, 3]`` points, longest side -> 1."""
    lo, hi = vertices.min(0).astype(np.float64), vertices.max(0).astype(np.float64)
    extent = float((hi - lo).max())
    if not np.isfinite(extent) or extent <= 0.0:
        raise AssetError(f"the mesh has a degenerate bounding box (size {extent}); it cannot be normalised")
    m = np.eye(4) / extent
    m[3, 3] = 1.0
    m[:3, 3] = -(lo + hi) / 2.0 / extent
    return m


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``[4, 4]`` affine matrix to ``[N, 3]`` points (float64 maths)."""
    p = np.asarray(points, dtype=np.float64)
    return p @ matrix[:3, :3].T + matrix[:3, 3]


def normalize_to_world(asset: Asset, up: Up = "y") -> Asset:
    """Map an asset loaded in source coordinates (``to_world`` = identity) into the world frame.

    Args:
        asset: the asset, vertices ``[V, 3]`` in the coordinates of ``asset.to_world``'s source.
        up: the source's up axis (``"y"``: glTF and most OBJ; ``"z"``: Z-up exports).

    Returns:
        A new Asset whose vertices fit [-0.5, 0.5]^3 with the longest side exactly 1, and whose
        ``to_world`` is the full source -> world matrix (this step composed with the old one).
    """
    mesh = asset.mesh
    if not np.isfinite(mesh.vertices).all():
        raise AssetError(f"{asset.source}: the mesh has NaN/inf vertex positions; repair and re-export it")
    axis = axis_matrix(up)
    rotated = transform_points(axis, mesh.vertices)
    step = fit_matrix(rotated) @ axis
    new_mesh = dataclasses.replace(
        mesh,
        vertices=transform_points(step, mesh.vertices).astype(np.float32),
        # normals only rotate: the fit is a uniform scale plus translation
        normals=None if mesh.normals is None else (mesh.normals @ axis[:3, :3].T).astype(np.float32),
    )
    meta = dict(asset.meta, up=up, scale=float(np.linalg.norm(step[:3, 0])))
    return Asset(mesh=new_mesh, source=asset.source, to_world=step @ asset.to_world, meta=meta)
