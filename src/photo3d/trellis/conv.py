"""Submanifold sparse 3D convolution as gather + matmul over kernel offsets (no CUDA extension).

Output voxels are the input voxels (spconv's ``SubMConv3d``, stride 1). For every kernel offset
``d`` the neighbour map lists the pairs (output voxel ``i``, input voxel ``j``) with
``coords[j] = coords[i] + d`` in the same batch element; the convolution is then::

    out[i] = bias + sum_d  W_d @ in[j(i, d)]

which equals a dense ``Conv3d`` (cross-correlation, zero padding ``k // 2``) evaluated at the
active sites with the inactive inputs set to zero. Weights use spconv's layout
``[C_out, k, k, k, C_in]`` (the layout TRELLIS checkpoints store under ``*.conv.weight``); the
dense ``Conv3d`` weight is ``weight.permute(0, 4, 1, 2, 3)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from photo3d.trellis.sparse import SparseTensor


def neighbour_pairs(coords: Tensor, kernel_size: int = 3, dilation: int = 1) -> list[tuple[int, Tensor, Tensor]]:
    """The (offset index, output rows, input rows) of a submanifold convolution.

    Args:
        coords: ``[N, 4]`` int ``(batch, x, y, z)``.
        kernel_size: odd kernel side k.
        dilation: spacing of the kernel taps.

    Returns:
        One ``(k_index, dst [M], src [M])`` per kernel offset that has any pair, where
        ``k_index`` indexes the flattened ``k x k x k`` kernel (x slowest, z fastest).
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"submanifold convolution needs an odd kernel size, got {kernel_size}")
    c = coords.long()
    pad = (kernel_size // 2) * dilation
    side = int(c[:, 1:].max()) + 1 + 2 * pad if len(c) else 1
    key = ((c[:, 0] * side + c[:, 1] + pad) * side + c[:, 2] + pad) * side + c[:, 3] + pad
    sorted_key, order = torch.sort(key)
    rows = torch.arange(len(c), device=c.device)
    r = kernel_size // 2
    pairs = []
    for k_index, (dx, dy, dz) in enumerate(
        (a, b, e) for a in range(-r, r + 1) for b in range(-r, r + 1) for e in range(-r, r + 1)
    ):
        if dx == dy == dz == 0:
            pairs.append((k_index, rows, rows))
            continue
        query = key + ((dx * side + dy) * side + dz) * dilation
        pos = torch.searchsorted(sorted_key, query).clamp(max=max(len(c) - 1, 0))
        found = sorted_key[pos] == query
        if bool(found.any()):
            pairs.append((k_index, rows[found], order[pos[found]]))
    return pairs


def submanifold_conv3d(x: SparseTensor, weight: Tensor, bias: Tensor | None = None, dilation: int = 1) -> SparseTensor:
    """Submanifold convolution of ``x`` (see the module docstring).

    Args:
        x: sparse input with ``feats [N, C_in]``.
        weight: ``[C_out, k, k, k, C_in]`` (spconv layout).
        bias: ``[C_out]`` or None.
        dilation: kernel dilation.

    Returns:
        ``SparseTensor`` over the same voxels with ``feats [N, C_out]``.
    """
    k = weight.shape[1]
    key = f"subm_pairs_{k}_{dilation}"
    if key not in x.cache:
        x.cache[key] = neighbour_pairs(x.coords, k, dilation)
    w = weight.reshape(weight.shape[0], k ** 3, weight.shape[-1])  # [C_out, K, C_in]
    centre = (k ** 3) // 2
    out = x.feats @ w[:, centre].transpose(0, 1)  # every voxel is its own centre tap
    for k_index, dst, src in x.cache[key]:
        if k_index != centre:
            out.index_add_(0, dst, x.feats[src] @ w[:, k_index].transpose(0, 1))
    if bias is not None:
        out = out + bias.to(out.dtype)
    return x.replace(out)


class SpconvKernel(nn.Module):
    """The parameters of one spconv ``SubMConv3d`` in spconv's layout (checkpoint key ``conv``).

    Attributes:
        weight: ``[C_out, k, k, k, C_in]``.
        bias: ``[C_out]`` or None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_channels, kernel_size, kernel_size, kernel_size, in_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        fan_in = in_channels * kernel_size ** 3
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)  # the default of a dense Conv3d
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)


class SparseConv3d(nn.Module):
    """Submanifold 3D convolution module; state-dict keys ``conv.weight`` / ``conv.bias``.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: odd k (TRELLIS uses 3).
        bias: learn a bias.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv = SpconvKernel(in_channels, out_channels, kernel_size, bias)

    def forward(self, x: SparseTensor) -> SparseTensor:
        return submanifold_conv3d(x, self.conv.weight.to(x.dtype), self.conv.bias)
