"""Rasterising triangles in UV space (numpy, no GPU): per-texel faces and barycentrics, baked values."""

from __future__ import annotations

import numpy as np

_CHUNK = 4_000_000  # candidate texels per batch: bounds memory to a few hundred MB


def rasterize_uv(uv: np.ndarray, faces: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate per-vertex ``values`` over triangles laid out by ``uv`` into a square image.

    Texel (row i, col j) has its centre at uv ``((j + 0.5) / size, (i + 0.5) / size)``
    (u right, v down: the image convention of :mod:`photo3d.assets.mesh`).

    Args:
        uv: ``[V, 2]`` texture coordinates in [0, 1].
        faces: ``[F, 3]`` vertex indices of the triangles to draw.
        values: ``[V, C]`` per-vertex values (e.g. RGB colours in [0, 1]).
        size: texture side in texels.

    Returns:
        ``(image [size, size, C] float32, covered [size, size] bool)``.
    """
    face, bary = uv_fragments(uv, faces, size)
    covered = face >= 0
    image = np.zeros((size, size, values.shape[1]), dtype=np.float32)
    f = faces[face[covered]]
    image[covered] = (values[f] * bary[covered][..., None]).sum(1)
    return image, covered


def uv_fragments(uv: np.ndarray, faces: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which triangle covers each texel centre in UV space, and where inside it.

    Same texel convention as :func:`rasterize_uv`; where UV triangles overlap, the later face wins.

    Args:
        uv: ``[V, 2]`` texture coordinates in [0, 1].
        faces: ``[F, 3]`` vertex indices of the triangles to draw.
        size: texture side in texels.

    Returns:
        ``(face [size, size] int64`` index into ``faces`` (-1 where no triangle covers the texel),
        ``bary [size, size, 3] float64`` barycentrics of the texel centre, 0 where uncovered).
    """
    face = np.full((size, size), -1, dtype=np.int64)
    bary = np.zeros((size, size, 3), dtype=np.float64)
    if len(faces) == 0:
        return face, bary
    tri = uv[faces].astype(np.float64) * size - 0.5  # [F, 3, 2] in texel-centre coordinates
    lo = np.clip(np.floor(tri.min(1)), 0, size - 1).astype(np.int64)
    hi = np.clip(np.ceil(tri.max(1)), 0, size - 1).astype(np.int64)
    w, h = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    counts = w * h
    bounds = np.concatenate([[0], np.cumsum(counts)])
    start = 0
    while start < len(faces):
        # grow the batch until it holds about _CHUNK candidate texels
        stop = int(np.searchsorted(bounds, bounds[start] + _CHUNK, side="right"))
        stop = min(max(stop - 1, start + 1), len(faces))
        _draw(tri, lo, w, counts, start, stop, face, bary)
        start = stop
    return face, bary


def _draw(tri, lo, w, counts, start, stop, face, bary) -> None:
    fid = np.repeat(np.arange(start, stop), counts[start:stop])
    first = np.repeat(np.cumsum(np.concatenate([[0], counts[start:stop - 1]])), counts[start:stop])
    local = np.arange(len(fid)) - first
    x = lo[fid, 0] + local % w[fid]
    y = lo[fid, 1] + local // w[fid]
    a, b, c = tri[fid, 0], tri[fid, 1], tri[fid, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    ok = np.abs(area) > 1e-12
    px, py = x.astype(np.float64), y.astype(np.float64)
    safe = np.where(ok, area, 1.0)
    w0 = ((b[:, 0] - px) * (c[:, 1] - py) - (b[:, 1] - py) * (c[:, 0] - px)) / safe
    w1 = ((c[:, 0] - px) * (a[:, 1] - py) - (c[:, 1] - py) * (a[:, 0] - px)) / safe
    w2 = 1.0 - w0 - w1
    eps = -1e-6
    inside = ok & (w0 >= eps) & (w1 >= eps) & (w2 >= eps)
    face[y[inside], x[inside]] = fid[inside]
    bary[y[inside], x[inside]] = np.stack([w0[inside], w1[inside], w2[inside]], axis=1)


def fill_empty(image: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Copy every uncovered texel from its nearest covered one, so bilinear sampling and
    mipmaps near chart borders never pick up the background."""
    if covered.all() or not covered.any():
        return image
    from scipy import ndimage

    _, (iy, ix) = ndimage.distance_transform_edt(~covered, return_indices=True)
    return image[iy, ix]
