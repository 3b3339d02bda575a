"""Small world-frame meshes for the feed-forward paradigm tests."""

from __future__ import annotations

import numpy as np


def box_mesh(half=(0.5, 0.2, 0.3)):
    """A closed box in the world frame (12 triangles, outward winding)."""
    from photo3d.assets import Mesh

    hx, hy, hz = half
    v = np.array([[x, y, z] for x in (-hx, hx) for y in (-hy, hy) for z in (-hz, hz)], float)
    f = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                  [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return Mesh(vertices=v, faces=f)
