"""Pure-PyTorch z-buffer rasteriser (CPU or GPU), vectorised and memory-bounded.

How it works (see :mod:`photo3d.render.raster_setup` for the screen-space rules):

1. Project vertices, set up the three edge functions and the pixel bounding box of every
   (view, face) pair.
2. Bucket the pairs by bounding-box size: a pair whose box fits in ``S x S`` pixels
   (S = 1, 2, 4, ..., 32) is tested against a dense ``S x S`` stencil of pixel centres. The edge
   function is affine, so ``(px - ax) * dy`` and ``(py - ay) * dx`` are computed per row and per
   column and the stencil costs one subtraction per candidate and edge. Boxes larger than
   32 x 32 are cut into 32 x 32 tiles first.
3. Inside candidates carry a 64-bit key ``depth_bits << 32 | face``; ``scatter_reduce('amin')``
   keeps the nearest face per pixel (positive float32 bit patterns sort like their values; equal
   depths resolve to the lower face id).
4. The barycentrics of the winners are recomputed once per pixel.

Memory is bounded by processing at most ``max_candidates`` stencil cells at a time, so a mesh of
any size renders (a 500k-face mesh at 64x64 is covered by the tests).
"""

from __future__ import annotations

import torch

from photo3d.render.base import Fragments
from photo3d.render.raster_setup import (
    AX,
    AY,
    DX,
    DY,
    IZ,
    THR,
    WZ,
    bary_from_face_ids,
    project_vertices,
    setup_faces,
)

TILE = 16
_KEY_NONE = torch.iinfo(torch.int64).max


class TorchRasterizer:
    """The default CPU visibility backend.

    Args:
        max_candidates: stencil cells processed per step; bounds peak memory at roughly
            ``max_candidates * 40`` bytes.
    """

    name = "torch"

    def __init__(self, max_candidates: int = 1 << 17) -> None:
        self.max_candidates = int(max_candidates)

    def rasterize(self, vertices: torch.Tensor, faces: torch.Tensor, c2w: torch.Tensor, K: torch.Tensor,
                  width: int, height: int, near: float = 0.05, far: float = 100.0,
                  orthographic: bool = False) -> Fragments:
        """Visible face, barycentrics and depth per pixel.

        Args:
            vertices: ``[V, 3]`` world positions; faces: ``[F, 3]`` int64.
            c2w: ``[N, 4, 4]``; K: ``[N, 3, 3]``; width, height: image size.
            orthographic: parallel projection (see :mod:`photo3d.render.raster_setup`).

        Returns:
            :class:`Fragments` with ``[N, H, W]`` tensors.
        """
        device = vertices.device
        with torch.no_grad():
            xy, z = project_vertices(vertices.detach(), c2w.to(device), K.to(device), orthographic)
            num_faces = faces.shape[0]
            n = xy.shape[0]
            fs = setup_faces(xy, z, faces, width, height, near, far, orthographic)
            keys = torch.full((n * height * width + 1,), _KEY_NONE, dtype=torch.int64, device=device)
            items = torch.nonzero(fs.valid).squeeze(1)
            x0, y0, bw, bh = fs.x0[items], fs.y0[items], fs.bw[items], fs.bh[items]
            big = torch.maximum(bw, bh) > TILE
            if bool(big.any()):
                items, x0, y0, bw, bh = _split_tiles(items, x0, y0, bw, bh, big, fs.params)
            # Stencil per item: the next powers of two >= box width and height (1..TILE), so
            # that candidate -> (item, row, col) is shifts and masks.
            lx = _ceil_log2(bw)
            ly = _ceil_log2(bh)
            view = torch.div(items, num_faces, rounding_mode="floor")
            base = (view * height + y0) * width + x0
            face = items - view * num_faces
            bucket = ly * 8 + lx
            # Sort every per-item array by bucket once, so that each pass takes contiguous slices
            # (views) instead of gathering seven arrays per pass.
            order = torch.argsort(bucket)
            counts = torch.bincount(bucket, minlength=64).tolist()
            params = fs.params.index_select(0, items[order])
            x0, y0, bw, bh, base, face = (a[order] for a in (x0, y0, bw, bh, base, face))
            offset = 0
            for b, count in enumerate(counts):
                if count == 0:
                    continue
                bly, blx = divmod(b, 8)
                step = max(1, self.max_candidates >> (blx + bly))
                for start in range(offset, offset + count, step):
                    part = slice(start, min(start + step, offset + count))
                    _stencil_pass(params[part], x0[part], y0[part], bw[part], bh[part], base[part], face[part],
                                  blx, bly, width, keys)
                offset += count
            keys = keys[:-1]
            hit = keys != _KEY_NONE
            face_id = torch.where(hit, keys & 0xFFFFFFFF, torch.full_like(keys, -1)).reshape(n, height, width)
            bary, depth = bary_from_face_ids(fs.params, face_id, num_faces)
        return Fragments(face_id=face_id, bary=bary, depth=depth)


def _split_tiles(items, x0, y0, bw, bh, big, params):
    """Replace items whose box exceeds TILE x TILE by their TILE x TILE tiles that touch the face.

    A tile is dropped when, for some edge, even its best pixel centre is outside (the edge
    function is affine, so its maximum over the tile is at a corner picked by the edge's signs).
    """
    keep = ~big
    b_items, bx0, by0, bbw, bbh = items[big], x0[big], y0[big], bw[big], bh[big]
    tx = (bbw + TILE - 1) // TILE
    ty = (bbh + TILE - 1) // TILE
    count = tx * ty
    rep = torch.repeat_interleave(torch.arange(len(b_items), device=items.device), count)
    local = torch.arange(len(rep), device=items.device) - (torch.cumsum(count, 0) - count)[rep]
    ix = local % tx[rep]
    iy = local // tx[rep]
    nx0 = bx0[rep] + ix * TILE
    ny0 = by0[rep] + iy * TILE
    nbw = torch.clamp(bbw[rep] - ix * TILE, max=TILE)
    nbh = torch.clamp(bbh[rep] - iy * TILE, max=TILE)
    p = params.index_select(0, b_items[rep])
    lo_x, hi_x = nx0.to(p.dtype) + 0.5, (nx0 + nbw).to(p.dtype) - 0.5
    lo_y, hi_y = ny0.to(p.dtype) + 0.5, (ny0 + nbh).to(p.dtype) - 0.5
    touch = torch.ones_like(nx0, dtype=torch.bool)
    for k in range(3):
        dx, dy = p[:, DX + k], p[:, DY + k]
        best_x = torch.where(dy > 0, hi_x, lo_x)
        best_y = torch.where(dx > 0, lo_y, hi_y)
        best = (best_x - p[:, AX + k]) * dy - (best_y - p[:, AY + k]) * dx
        touch &= best >= -1e-3 * (dx.abs() + dy.abs())  # conservative margin for rounding
    rep, nx0, ny0, nbw, nbh = rep[touch], nx0[touch], ny0[touch], nbw[touch], nbh[touch]
    cat = lambda a, b: torch.cat([a[keep], b])
    return cat(items, b_items[rep]), cat(x0, nx0), cat(y0, ny0), cat(bw, nbw), cat(bh, nbh)


def _ceil_log2(x: torch.Tensor) -> torch.Tensor:
    """ceil(log2(x)) for positive int64 ``x`` (exact, no float rounding)."""
    out = torch.zeros_like(x)
    for k in range(1, 6):
        out += (x > (1 << (k - 1))).long()
    return out


def _stencil_pass(p, x0, y0, bw, bh, base, face, lx, ly, width, keys) -> None:
    """Test faces against a ``2**ly x 2**lx`` stencil of pixel centres and min-reduce their keys.

    Args:
        p: ``[I, 18]`` face parameters; x0, y0, bw, bh: ``[I]`` clipped boxes.
        base: ``[I]`` flat index of each box's first pixel; face: ``[I]`` face ids.
        keys: ``[N*H*W + 1]`` running minimum of ``depth_bits << 32 | face``.
    """
    sx, sy = 1 << lx, 1 << ly
    ox = torch.arange(sx, device=p.device)
    oy = torch.arange(sy, device=p.device)
    pxc = (x0[:, None] + ox).to(p.dtype) + 0.5  # [I, sx]
    pyc = (y0[:, None] + oy).to(p.dtype) + 0.5  # [I, sy]
    inside = (ox < bw[:, None])[:, None, :] & (oy < bh[:, None])[:, :, None]  # [I, sy, sx]
    edges = []
    for k in range(3):
        # Same float ops as raster_setup.edge_values, laid out separably.
        ex = (pxc - p[:, AX + k, None]) * p[:, DY + k, None]
        ey = (pyc - p[:, AY + k, None]) * p[:, DX + k, None]
        e = ex[:, None, :] - ey[:, :, None]
        inside &= e >= p[:, THR + k, None, None]
        edges.append(e.reshape(-1))
    hit = torch.nonzero(inside.reshape(-1)).squeeze(1)
    if hit.numel() == 0:
        return
    item = hit >> (lx + ly)
    cell = hit & ((1 << (lx + ly)) - 1)
    e0, e1, e2 = (e[hit] for e in edges)
    iz = p[:, IZ:IZ + 3].index_select(0, item)
    wz = p[:, WZ:WZ + 3].index_select(0, item)
    depth = (e0 * wz[:, 0] + e1 * wz[:, 1] + e2 * wz[:, 2]) / (e0 * iz[:, 0] + e1 * iz[:, 1] + e2 * iz[:, 2])
    pix = base[item] + (cell >> lx) * width + (cell & (sx - 1))
    key = (depth.float().view(torch.int32).to(torch.int64) << 32) | face[item]
    keys.scatter_reduce_(0, pix, key, reduce="amin", include_self=True)
