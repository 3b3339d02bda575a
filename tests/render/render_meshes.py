"""Tiny synthetic meshes for the renderer tests (built in code, no files)."""

from __future__ import annotations

import numpy as np

from photo3d.assets.mesh import Material, Mesh

# Side -> (outward normal, RGB). glTF front = -Y in the world frame (see photo3d.cameras).
CUBE_SIDES = {
    "front": ((0, -1, 0), (1.0, 0.0, 0.0)),
    "back": ((0, 1, 0), (0.0, 1.0, 0.0)),
    "right": ((1, 0, 0), (0.0, 0.0, 1.0)),
    "left": ((-1, 0, 0), (1.0, 1.0, 0.0)),
    "top": ((0, 0, 1), (1.0, 0.0, 1.0)),
    "bottom": ((0, 0, -1), (0.0, 1.0, 1.0)),
}


def make_cube(size: float = 0.6) -> Mesh:
    """An axis-aligned cube whose six sides carry distinct vertex colours (12 faces)."""
    verts, faces, colors = [], [], []
    for normal, rgb in CUBE_SIDES.values():
        n = np.array(normal, dtype=np.float64)
        # Two in-plane axes; the quad's winding does not matter (nothing is culled).
        a = np.array([n[1], n[2], n[0]])
        b = np.cross(n, a)
        c = n * size / 2
        quad = [c + (sa * a + sb * b) * size / 2 for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        base = len(verts)
        verts += quad
        faces += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
        colors += [list(rgb) + [1.0]] * 4
    return Mesh(np.array(verts), np.array(faces), vertex_colors=np.array(colors))


def make_quad(texture: np.ndarray | None = None, z: float = 0.0, half: float = 0.5) -> Mesh:
    """A square in the XZ plane (facing -Y, i.e. the yaw-180 camera) with image-convention UVs.

    The texture's top-left corner maps to the square's top-left as seen from the front camera
    (world -X, +Z).
    """
    verts = np.array([[-half, z, half], [half, z, half], [half, z, -half], [-half, z, -half]])
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    mat = Material(base_color_texture=texture)
    return Mesh(verts, faces, uv=uv, materials=[mat])


def make_grid_mesh(n: int, seed: int = 0) -> Mesh:
    """A wavy ``n x n`` quad grid (2 n^2 faces) spanning [-0.5, 0.5]^2 in XZ."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(-0.5, 0.5, n + 1)
    gx, gz = np.meshgrid(xs, xs)
    gy = 0.05 * np.sin(6 * gx) * np.cos(5 * gz) + 0.001 * rng.standard_normal(gx.shape)
    verts = np.stack([gx, gy, gz], -1).reshape(-1, 3)
    idx = np.arange((n + 1) * (n + 1)).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return Mesh(verts, faces)


def quadrant_texture(size: int = 8) -> np.ndarray:
    """``size x size x 3`` uint8: TL red, TR green, BL blue, BR white."""
    tex = np.zeros((size, size, 3), dtype=np.uint8)
    h = size // 2
    tex[:h, :h] = (255, 0, 0)
    tex[:h, h:] = (0, 255, 0)
    tex[h:, :h] = (0, 0, 255)
    tex[h:, h:] = (255, 255, 255)
    return tex
