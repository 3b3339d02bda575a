"""An independent per-pixel visibility reference for the rasteriser tests (float64, loops, no shared code)."""

from __future__ import annotations

import numpy as np


def naive_reference(verts, faces, c2w, K, width, height, near=0.05, orthographic=False):
    """Per pixel, per face loop in float64: returns (face_id [H, W], depth [H, W], margin [H, W]).

    ``margin`` is the smallest screen-space barycentric of the winning face (edge proximity) or,
    where two faces are close in depth, 0, so ambiguous pixels can be left out. Perspective views
    interpolate ``1 / z`` on screen; parallel (orthographic) ones interpolate ``z`` itself.
    """
    w2c = np.linalg.inv(c2w)
    cam = verts @ w2c[:3, :3].T + w2c[:3, 3]
    if orthographic:
        xy = cam[:, :2] * [K[0, 0], K[1, 1]] + [K[0, 2], K[1, 2]]
    else:
        uvw = cam @ K.T
        xy = uvw[:, :2] / uvw[:, 2:3]
    z = cam[:, 2]
    fid = -np.ones((height, width), dtype=np.int64)
    depth = np.zeros((height, width))
    margin = np.full((height, width), np.inf)
    for i in range(height):
        for j in range(width):
            p = np.array([j + 0.5, i + 0.5])
            best, second = (np.inf, -1, 0.0), np.inf
            for f, (a, b, c) in enumerate(faces):
                if min(z[a], z[b], z[c]) <= near:
                    continue
                m = np.array([xy[a] - xy[c], xy[b] - xy[c]]).T
                if abs(np.linalg.det(m)) < 1e-12:
                    continue
                l0, l1 = np.linalg.solve(m, p - xy[c])
                lam = np.array([l0, l1, 1 - l0 - l1])
                if lam.min() < -1e-9:
                    continue
                d = float(lam @ z[[a, b, c]]) if orthographic else 1.0 / (lam / z[[a, b, c]]).sum()
                if d < best[0]:
                    best, second = (d, f, lam.min()), best[0]
                elif d < second:
                    second = d
            if best[1] >= 0:
                fid[i, j], depth[i, j] = best[1], best[0]
                margin[i, j] = 0.0 if second - best[0] < 1e-6 else best[2]
    return fid, depth, margin
