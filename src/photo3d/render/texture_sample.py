"""Bilinear texture sampling with repeat wrapping, split into "where" and "what".

Texture optimisation samples the same UVs every step (geometry and cameras are fixed), so the
sampling is split in two:

* :func:`texel_taps`: the four texel indices and bilinear weights of every UV (depends on the UVs
  and the texture size only; compute once, reuse every step);
* :func:`sample_taps`: gather with those taps. Its backward is one ``index_add_`` of
  ``weight x grad`` per channel into the flat texture gradient, without the intermediate
  ``[4, P, C]`` tensors and broadcasting that plain autograd would record. Taps are sorted by
  texel, so both directions sweep the texture in address order.

Conventions (glTF sampler defaults): texel centres at ``(j + 0.5) / W`` (``align_corners=False``),
wrap mode repeat, UVs in image convention ((0, 0) = top-left corner of the image).

The gradient of a large texture is a large dense tensor (``3 x 4096 x 4096`` float32 is 200 MB),
and filling freshly mapped memory page by page costs more than the scatter itself. On Linux the
gradient buffer is therefore allocated with transparent huge pages requested (``madvise``), which
makes that first touch several times cheaper; elsewhere it is a plain ``torch.zeros``.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import sys
from typing import NamedTuple

import torch
from torch.autograd.function import once_differentiable

_MADV_HUGEPAGE = 14
_HUGE_MIN_BYTES = 8 << 20


class Taps(NamedTuple):
    """Bilinear taps of P points, usually sorted by texel so that gathers and scatters walk memory in order.

    Attributes:
        texel: ``[4 * P]`` int64 flat texel indices (``row * width + col``), ascending when sorted.
        point: ``[4 * P]`` int64 index of the point each tap belongs to.
        weight: ``[4 * P]`` bilinear weights (each point's four sum to 1).
        num_points: P.
    """

    texel: torch.Tensor
    point: torch.Tensor
    weight: torch.Tensor
    num_points: int


def texel_taps(uv: torch.Tensor, height: int, width: int, sort: bool = True) -> Taps:
    """Texel indices and bilinear weights of ``uv`` in an ``height x width`` texture.

    Args:
        uv: ``[P, 2]`` coordinates in image convention (any real value; repeat wrapping).
        height, width: texture size.
        sort: order the taps by texel (worth it when the taps are used more than once).

    Returns:
        :class:`Taps` (weights in ``uv``'s dtype). Not differentiable.
    """
    uv = uv.detach()
    x = uv[:, 0] * width - 0.5
    y = uv[:, 1] * height - 0.5
    x0f, y0f = torch.floor(x), torch.floor(y)
    fx, fy = x - x0f, y - y0f
    x0 = torch.remainder(x0f.long(), width)
    y0 = torch.remainder(y0f.long(), height)
    x1 = torch.remainder(x0 + 1, width)
    y1 = torch.remainder(y0 + 1, height)
    r0, r1 = y0 * width, y1 * width
    texel = torch.cat([r0 + x0, r0 + x1, r1 + x0, r1 + x1])
    gx, gy = 1 - fx, 1 - fy
    weight = torch.cat([gx * gy, fx * gy, gx * fy, fx * fy])
    num = uv.shape[0]
    point = torch.arange(num, device=uv.device).repeat(4)
    if not sort:
        return Taps(texel, point, weight, num)
    # Sorting once makes every later gather and scatter sweep the texture in address order
    # (2-3x faster than random order for textures larger than the caches).
    order = torch.argsort(texel)
    return Taps(texel[order], point[order], weight[order], num)


def sample_taps(texture: torch.Tensor, taps: Taps) -> torch.Tensor:
    """Weighted gather of texels, differentiable w.r.t. ``texture``.

    Args:
        texture: ``[C, H, W]`` float texture.
        taps: from :func:`texel_taps` for this texture's ``H x W``.

    Returns:
        ``[C, P]`` samples (channels first).
    """
    c, h, w = texture.shape
    return _TapSample.apply(texture.reshape(c, h * w), taps.texel, taps.point, taps.weight.to(texture.dtype),
                            taps.num_points)


class _TapSample(torch.autograd.Function):
    """``out[c, point[i]] += weight[i] * tex[c, texel[i]]`` with the transposed scatter as backward."""

    @staticmethod
    def forward(ctx, tex, texel, point, weight, num_points):
        ctx.save_for_backward(texel, point, weight)
        ctx.tex_shape = tex.shape
        vals = tex.index_select(1, texel) * weight
        out = tex.new_zeros(tex.shape[0], num_points)
        # 1-D index_add_ per channel: serial, but cache-friendly and free of the thread
        # hand-offs that dominate the 2-D scatter variants on a small, busy CPU.
        for ch in range(tex.shape[0]):
            out[ch].index_add_(0, point, vals[ch])
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None
        texel, point, weight = ctx.saved_tensors
        c, hw = ctx.tex_shape
        vals = grad_out.index_select(1, point) * weight
        grad = zeros_large((c, hw), grad_out.dtype, grad_out.device)
        for ch in range(c):
            grad[ch].index_add_(0, texel, vals[ch])
        return grad, None, None, None, None


def zeros_large(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """``torch.zeros`` that asks Linux for transparent huge pages on big CPU buffers.

    Args:
        shape: tensor shape; dtype, device: as for ``torch.zeros``.

    Returns:
        A zero-filled tensor (contiguous).
    """
    device = torch.device(device)
    numel = 1
    for s in shape:
        numel *= int(s)
    nbytes = numel * torch.empty((), dtype=dtype).element_size()
    if device.type != "cpu" or nbytes < _HUGE_MIN_BYTES or _madvise() is None:
        return torch.zeros(shape, dtype=dtype, device=device)
    out = torch.empty(shape, dtype=dtype, device=device)
    page = mmap.PAGESIZE
    start = (out.data_ptr() + page - 1) // page * page
    end = (out.data_ptr() + nbytes) // page * page
    if end > start:
        _madvise()(start, end - start, _MADV_HUGEPAGE)  # advisory: a failure just means small pages
    return out.zero_()


@functools.lru_cache(maxsize=1)
def _madvise():
    """libc's ``madvise`` on Linux, else ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def sample_texture_reference(texture: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Plain-autograd bilinear lookup, differentiable w.r.t. both ``texture`` and ``uv``.

    Args:
        texture: ``[C, H, W]``; uv: ``[P, 2]`` (image convention, repeat wrapping).

    Returns:
        ``[P, C]`` samples.
    """
    c, h, w = texture.shape
    x = uv[:, 0] * w - 0.5
    y = uv[:, 1] * h - 0.5
    x0f, y0f = torch.floor(x), torch.floor(y)
    fx, fy = (x - x0f)[:, None], (y - y0f)[:, None]
    x0 = torch.remainder(x0f.long(), w)
    y0 = torch.remainder(y0f.long(), h)
    x1 = torch.remainder(x0 + 1, w)
    y1 = torch.remainder(y0 + 1, h)
    idx = torch.stack([y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1])  # [4, P]
    taps = texture.reshape(c, h * w)[:, idx.reshape(-1)].reshape(c, 4, -1).permute(1, 2, 0)  # [4, P, C]
    top = taps[0] * (1 - fx) + taps[1] * fx
    bottom = taps[2] * (1 - fx) + taps[3] * fx
    return top * (1 - fy) + bottom * fy
