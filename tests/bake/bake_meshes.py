"""Small meshes with UV atlases for the baking tests (built in code)."""

from __future__ import annotations

import numpy as np

from photo3d.assets import Asset, Material, Mesh


def quad(y: float, u0: float, u1: float, half: float = 0.4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A square in the plane ``Y = y`` facing -Y (the yaw-180 camera), mapped to ``u in [u0, u1]``."""
    verts = np.array([[-half, y, half], [half, y, half], [half, y, -half], [-half, y, -half]])
    uv = np.array([[u0, 0.02], [u1, 0.02], [u1, 0.98], [u0, 0.98]])
    return verts, np.array([[0, 1, 2], [0, 2, 3]]), uv


def two_quads() -> Asset:
    """A front square (Y = -0.3, UV left half) hiding an equal back square (Y = +0.3, UV right half)."""
    v0, f0, uv0 = quad(-0.3, 0.02, 0.48)
    v1, f1, uv1 = quad(0.3, 0.52, 0.98)
    mesh = Mesh(np.concatenate([v0, v1]), np.concatenate([f0, f1 + 4]), uv=np.concatenate([uv0, uv1]),
                materials=[Material(name="atlas")])
    return Asset(mesh=mesh)


def sheet(n: int = 16) -> Asset:
    """A flat ``n x n`` grid in the XZ plane (Y = 0) whose UVs cover the atlas: u = x + 0.5, v = 0.5 - z."""
    xs = np.linspace(-0.5, 0.5, n + 1)
    gx, gz = np.meshgrid(xs, xs)
    verts = np.stack([gx, np.zeros_like(gx), gz], -1).reshape(-1, 3)
    uv = np.stack([verts[:, 0] + 0.5, 0.5 - verts[:, 2]], -1)
    idx = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return Asset(mesh=Mesh(verts, faces, uv=uv, materials=[Material(name="atlas")]))


def with_texture(asset: Asset, texture: np.ndarray) -> Asset:
    """The asset with ``texture`` (``H x W x 3`` uint8) as its base colour."""
    mat = Material(name="atlas", base_color_texture=texture)
    mesh = Mesh(asset.mesh.vertices, asset.mesh.faces, uv=asset.mesh.uv, materials=[mat])
    return Asset(mesh=mesh, source=asset.source, to_world=asset.to_world, meta=dict(asset.meta))
