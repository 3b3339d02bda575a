"""Tiled, memory-bounded alpha compositing of screen-space Gaussians in pure PyTorch (CPU or GPU).

How it works (the structure of the CUDA 3DGS rasterizer, vectorised for PyTorch):

1. **Binning.** Each Gaussian is assigned to every 16x16 tile its exact alpha >= 1/255 footprint
   touches. The (tile, Gaussian) pairs are sorted by tile, then by depth (one int64 sort).
2. **Compositing in chunks.** Tiles are processed in groups; within a group, step ``k`` takes the
   ``k``-th chunk of ``chunk`` Gaussians of every tile still active, evaluates their alphas at
   the tile's 256 pixels (``[tiles, 256, chunk]``), and composites front to back:
   ``w_i = alpha_i * T * prod_{j<i} (1 - alpha_j)`` via a cumulative sum of ``log(1 - alpha)``.
   A tile stops once every pixel's transmittance is below ``t_min`` (the residual is at most
   ``t_min`` times the remaining features). Group size is chosen so one step touches at most
   ``budget`` pixel-Gaussian entries, which bounds memory independently of the scene size.
3. **Backward by recomputation** (a custom autograd function). The forward keeps only each
   step's incoming transmittance ``T_in`` (``[tiles, 256]``). The backward walks the steps in
   reverse, carrying ``R`` = the normalised colour of everything behind the chunk (zero behind
   the last one; the background is added outside, from the composited alpha). The output
   restricted to chunk ``k``'s parameters is ``T_in * (L_k + P_k * R_{k+1})`` (``L_k`` the chunk's own composite, ``P_k`` its total
   transmittance); differentiating that with autograd gives exact gradients, including the
   occlusion of everything behind, with peak memory of one step.

Features are arbitrary channels (RGB, depth, a constant 1 for alpha) composited the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from photo3d.gaussians.projection import ALPHA_MAX, ALPHA_MIN

TILE = 16


@dataclass
class TilePlan:
    """Which Gaussians touch which tile, depth-sorted (non-differentiable bookkeeping).

    Attributes:
        gauss: ``[P]`` int64 index of the Gaussian of each (tile, Gaussian) pair, grouped by
            tile and sorted front to back.
        start: ``[T]`` int64 offset of each tile's run in ``gauss``.
        count: ``[T]`` int64 length of each tile's run.
        centre: ``[T, 2]`` pixel coordinates of each tile's centre.
        basis: ``[256, 6]`` monomials (x², xy, y², x, y, 1) of the pixel centres relative to the
            tile centre: the Gaussian exponent is one matrix product with per-pair coefficients.
        n_images, tiles_y, tiles_x: tile grid layout (tile id = (img * ty + y) * tx + x).
    """

    gauss: torch.Tensor
    start: torch.Tensor
    count: torch.Tensor
    centre: torch.Tensor
    basis: torch.Tensor
    n_images: int
    tiles_y: int
    tiles_x: int


def plan_tiles(means2d: torch.Tensor, extents: torch.Tensor, depths: torch.Tensor, image_id: torch.Tensor,
               n_images: int, width: int, height: int, tile: int = TILE) -> TilePlan:
    """Bin M screen-space Gaussians into tiles.

    Args:
        means2d: ``[M, 2]`` pixel centres.
        extents: ``[M, 2]`` half sizes of the footprints in pixels.
        depths: ``[M]`` sort keys (camera z).
        image_id: ``[M]`` int64 image each Gaussian belongs to.
        n_images, width, height: output layout.
        tile: tile size in pixels.

    Returns:
        A :class:`TilePlan`.
    """
    dev = means2d.device
    tx, ty = math.ceil(width / tile), math.ceil(height / tile)
    with torch.no_grad():
        lo = torch.floor((means2d - extents) / tile).long()
        hi = torch.floor((means2d + extents) / tile).long()
        x0, x1 = lo[:, 0].clamp(0, tx - 1), hi[:, 0].clamp(0, tx - 1)
        y0, y1 = lo[:, 1].clamp(0, ty - 1), hi[:, 1].clamp(0, ty - 1)
        w, h = x1 - x0 + 1, y1 - y0 + 1
        n_per = w * h
        gid = torch.repeat_interleave(torch.arange(len(n_per), device=dev), n_per)
        first = torch.cumsum(n_per, 0) - n_per
        local = torch.arange(len(gid), device=dev) - first[gid]
        tile_x = x0[gid] + local % w[gid]
        tile_y = y0[gid] + local // w[gid]
        tile_id = (image_id[gid] * ty + tile_y) * tx + tile_x
        rank = torch.empty_like(depths, dtype=torch.long)
        rank[torch.argsort(depths)] = torch.arange(len(depths), device=dev)
        order = torch.argsort(tile_id * max(len(depths), 1) + rank[gid])
        n_tiles = n_images * ty * tx
        count = torch.bincount(tile_id, minlength=n_tiles)
        start = torch.cumsum(count, 0) - count
        ys, xs = torch.meshgrid(torch.arange(tile, device=dev), torch.arange(tile, device=dev), indexing="ij")
        # local coordinates keep the monomials small, so float32 loses nothing in the expansion
        x = xs.reshape(-1).to(means2d.dtype) + 0.5 - tile / 2
        y = ys.reshape(-1).to(means2d.dtype) + 0.5 - tile / 2
        basis = torch.stack([x * x, x * y, y * y, x, y, torch.ones_like(x)], -1)
        t_ids = torch.arange(n_tiles, device=dev)
        centre = torch.stack([(t_ids % tx) * tile, ((t_ids // tx) % ty) * tile], -1).to(means2d.dtype) + tile / 2
    return TilePlan(gid[order], start, count, centre, basis, n_images, ty, tx)


def _gather(plan: TilePlan, rows: torch.Tensor, k: int, chunk: int):
    """Gaussian ids ``[r, C]`` of chunk ``k`` of tiles ``rows`` and which slots are real."""
    pos = k * chunk + torch.arange(chunk, device=rows.device)
    valid = pos[None, :] < plan.count[rows, None]
    idx = (plan.start[rows, None] + pos[None, :]).clamp(max=max(len(plan.gauss) - 1, 0))
    return plan.gauss[idx], valid


def _terms(plan: TilePlan, rows, valid, m, cn, o, f):
    """Composite of one chunk, starting at transmittance 1.

    Args:
        rows: ``[r]`` tile ids; valid: ``[r, C]``; m ``[r, C, 2]``, cn ``[r, C, 3]``, o ``[r, C]``,
        f ``[r, C, D]``: the chunk's Gaussians, gathered.

    Returns:
        ``L [r, 256, D]`` (the chunk's own composite) and ``P [r, 256]`` (its transmittance).
    """
    d = m - plan.centre[rows][:, None, :]  # centre relative to the tile centre
    mx, my = d[..., 0], d[..., 1]
    a, b, c = cn[..., 0], cn[..., 1], cn[..., 2]
    # log alpha = log o - q/2 with q = a dx² + 2b dx dy + c dy², expanded in the pixel monomials
    const = torch.log(o.clamp(min=1e-30)) - 0.5 * (a * mx * mx + 2 * b * mx * my + c * my * my)
    vf = valid.to(m.dtype)
    coef = torch.stack([-0.5 * a, -b, -0.5 * c, a * mx + b * my, b * mx + c * my, const], 1) * vf[:, None]
    coef = coef - torch.stack([torch.zeros_like(vf)] * 5 + [(1 - vf) * 1e4], 1)  # padding: alpha 0
    alpha = torch.exp(torch.matmul(plan.basis, coef)).clamp(max=ALPHA_MAX)  # [r, 256, C]
    alpha = alpha * (alpha >= ALPHA_MIN)
    log1m = torch.log1p(-alpha)
    cum = torch.cumsum(log1m, dim=2)
    w = alpha * torch.exp(cum - log1m)  # alpha_i * prod_{j<i}(1 - alpha_j)
    return torch.bmm(w, f), torch.exp(cum[..., -1])


def _chunk_terms(plan: TilePlan, rows, k, chunk, means2d, conics, opac, feats):
    """(L, P) of chunk ``k`` of tiles ``rows`` from the full per-Gaussian tensors."""
    gid, valid = _gather(plan, rows, k, chunk)
    return _terms(plan, rows, valid, means2d[gid], conics[gid], opac[gid], feats[gid])


class _Composite(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, opac, feats, plan, chunk, budget, t_min):
        n_tiles, npix = len(plan.centre), len(plan.basis)
        out = torch.zeros(n_tiles, npix, feats.shape[1], dtype=feats.dtype, device=feats.device)
        records = []  # per tile group: (rows, [(selected rows, chunk index, T_in), ...])
        busy = torch.nonzero(plan.count > 0).squeeze(1)
        busy = busy[torch.argsort(plan.count[busy], descending=True)]  # similar lengths together
        per_group = max(1, budget // (npix * chunk))
        for g0 in range(0, len(busy), per_group):
            rows_all = busy[g0:g0 + per_group]
            T = torch.ones(len(rows_all), npix, dtype=feats.dtype, device=feats.device)
            acc = torch.zeros(len(rows_all), npix, feats.shape[1], dtype=feats.dtype, device=feats.device)
            steps = []
            for k in range(math.ceil(int(plan.count[rows_all].max()) / chunk)):
                sel = torch.nonzero((plan.count[rows_all] > k * chunk) & (T.amax(1) > t_min)).squeeze(1)
                if len(sel) == 0:
                    break
                T_in = T[sel]
                L, P = _chunk_terms(plan, rows_all[sel], k, chunk, means2d, conics, opac, feats)
                acc[sel] += T_in[..., None] * L
                T[sel] = T_in * P
                steps.append((sel, k, T_in))
            out[rows_all] = acc
            records.append((rows_all, steps))
        ctx.plan, ctx.chunk, ctx.records = plan, chunk, records
        ctx.save_for_backward(means2d, conics, opac, feats)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        plan, chunk = ctx.plan, ctx.chunk
        full = ctx.saved_tensors
        grads = [torch.zeros_like(t) for t in full]
        with torch.enable_grad():
            for rows_all, steps in ctx.records:
                R = torch.zeros(len(rows_all), *grad_out.shape[1:], dtype=grad_out.dtype, device=grad_out.device)
                g_rows = grad_out[rows_all]
                for sel, k, T_in in reversed(steps):
                    rows = rows_all[sel]
                    gid, valid = _gather(plan, rows, k, chunk)
                    # gather first, then differentiate w.r.t. the small gathered copies: the
                    # scatter back into [M, ...] is one index_add per tensor, not a dense zero fill
                    sub = [t[gid].detach().requires_grad_(True) for t in full]
                    L, P = _terms(plan, rows, valid, *sub)
                    tail = L + P[..., None] * R[sel]  # this chunk and everything behind it
                    got = torch.autograd.grad(T_in[..., None] * tail, sub, g_rows[sel])
                    flat = gid.reshape(-1)
                    for acc, g in zip(grads, got):
                        acc.index_add_(0, flat, g.reshape(len(flat), *g.shape[2:]))
                    R[sel] = tail.detach()
        return (*grads, None, None, None, None)


def composite(means2d: torch.Tensor, conics: torch.Tensor, opacities: torch.Tensor, features: torch.Tensor,
              plan: TilePlan, chunk: int = 32, budget: int = 1 << 22,
              t_min: float = 1e-4) -> torch.Tensor:
    """Front-to-back composite of M screen-space Gaussians; differentiable in all tensor inputs.

    Args:
        means2d: ``[M, 2]`` pixel centres.
        conics: ``[M, 3]`` inverse 2D covariances (a, b, c).
        opacities: ``[M]`` opacities in [0, 1].
        features: ``[M, D]`` channels to composite (colour, depth, ...).
        plan: tile binning from :func:`plan_tiles` (same M Gaussians).
        chunk: Gaussians per tile per compositing step.
        budget: maximum pixel x Gaussian entries evaluated at once (bounds memory: about 40
            bytes per entry in float32 during the backward).
        t_min: a tile stops when all its pixels' transmittance is below this (0 disables).

    Returns:
        ``[n_images, D, H_pad, W_pad]`` composites over a zero background, padded to whole
        tiles (crop them). Composite a constant-1 feature to get alpha, then add
        ``(1 - alpha) * background``.
    """
    out = _Composite.apply(means2d, conics, opacities, features, plan, chunk, budget, t_min)
    n, ty, tx, D = plan.n_images, plan.tiles_y, plan.tiles_x, features.shape[1]
    return out.reshape(n, ty, tx, TILE, TILE, D).permute(0, 5, 1, 3, 2, 4).reshape(n, D, ty * TILE, tx * TILE)
