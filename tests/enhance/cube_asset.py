"""A tiny textured cube for the enhance tests (shared with tests/cli/test_enhance_cli.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# cube faces as (normal axis, sign); each face gets one 16x16 cell of a 3x2 texture atlas
_FACES = [(0, 1), (0, -1), (1, 1), (1, -1), (2, 1), (2, -1)]
CELL = 16


def cube_mesh(texture: np.ndarray):
    """A cube, 4 vertices per face, each face mapped to one cell of a 3x2 atlas."""
    from photo3d.assets import Material, Mesh

    verts, uvs, faces = [], [], []
    for f, (axis, sign) in enumerate(_FACES):
        a, b = [d for d in range(3) if d != axis]
        corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        row, col = divmod(f, 3)
        base = len(verts)
        for (ca, cb) in corners:
            p = [0.0, 0.0, 0.0]
            p[axis], p[a], p[b] = 0.5 * sign, 0.5 * ca, 0.5 * cb
            verts.append(p)
            # inset by half a texel so bilinear taps stay inside the cell
            u = (col * CELL + 0.5 + (ca + 1) / 2 * (CELL - 1)) / (3 * CELL)
            v = (row * CELL + 0.5 + (cb + 1) / 2 * (CELL - 1)) / (2 * CELL)
            uvs.append((u, v))
        tri = [(0, 1, 2), (0, 2, 3)] if sign > 0 else [(0, 2, 1), (0, 3, 2)]
        faces += [(base + i, base + j, base + k) for i, j, k in tri]
    mat = Material(name="atlas", base_color_texture=texture)
    # turned 45 degrees about the (glTF) up axis so the normalised cube fits inside the rig's views
    c = s = np.sqrt(0.5)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return Mesh(np.array(verts) @ rot.T, np.array(faces), uv=np.array(uvs), materials=[mat])


def cube_texture(seed: int = 0, smooth: bool = False) -> np.ndarray:
    """``[32, 48, 3]`` uint8: a random checker-ish pattern (or a smooth version of it)."""
    rng = np.random.default_rng(seed)
    tex = rng.integers(30, 225, size=(2 * CELL, 3 * CELL, 3)).astype(np.float32)
    if smooth:
        tex = np.full_like(tex, tex.mean())
    return tex.astype(np.uint8)


def edited_texture(texture: np.ndarray) -> np.ndarray:
    """An "edit" of a cube texture that keeps its structure: more contrast and a colour shift."""
    out = (texture.astype(np.float32) - 128.0) * 1.4 + 128.0 + np.array([10.0, -5.0, 0.0])
    return np.clip(out, 0, 255).astype(np.uint8)


def write_cube(path: Path, texture: np.ndarray) -> Path:
    from photo3d.assets import Asset, export_glb

    return export_glb(Asset(mesh=cube_mesh(texture)), path)
