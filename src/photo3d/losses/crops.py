"""Random square crop windows shared by pred and target, and a batched crop-and-resize.

Photo3D's L_adapt (§3.1) compares CLIP embeddings of the *same* random window cut from a
rendered view and from its realistic counterpart. Following the released code, the crop side
is ``c = min(S, max(min_size, int(S * s)))`` with ``s ~ U(scale)`` and ``S = min(H, W)`` (the
code assumes square views, S = H), and the top-left corner is uniform in ``[0, H-c] x [0, W-c]``.

:func:`crop_resize` cuts all windows of a view batch and resizes them in ONE ``grid_sample``
call. The sampling grid reproduces ``F.interpolate(crop, size, mode="bilinear",
align_corners=False)`` (no antialias, the released code's resize) exactly: source coordinates
``(i + 0.5) * c / size - 0.5`` clamped to ``[0, c - 1]``, as PyTorch's upsampling kernel does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from photo3d.errors import InputError


def sample_crop_boxes(
    n_views: int,
    height: int,
    width: int,
    n_crops: int = 6,
    scale: tuple[float, float] = (0.4, 1.0),
    min_size: int = 32,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Sample square crop windows, ``n_crops`` per view.

    Args:
        n_views: number of views N.
        height: view height H.
        width: view width W.
        n_crops: windows per view.
        scale: range of the crop side as a fraction of ``min(H, W)``.
        min_size: smallest crop side in pixels (clamped to ``min(H, W)``).
        generator: CPU ``torch.Generator`` for reproducible crops.

    Returns:
        ``[N, n_crops, 3]`` int64 boxes ``(top, left, side)``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> sample_crop_boxes(4, 512, 512, n_crops=6, generator=g).shape
        torch.Size([4, 6, 3])
    """
    lo, hi = scale
    if not 0 < lo <= hi <= 1:
        raise InputError(f"crop scale must satisfy 0 < min <= max <= 1, got {scale}")
    if n_crops < 1:
        raise InputError(f"n_crops must be >= 1, got {n_crops}")
    side_max = min(height, width)
    s = torch.rand(n_views, n_crops, generator=generator, dtype=torch.float64) * (hi - lo) + lo
    side = (side_max * s).floor().long().clamp(min=min(min_size, side_max), max=side_max)
    u = torch.rand(n_views, n_crops, 2, generator=generator, dtype=torch.float64)
    top = (u[..., 0] * (height - side + 1)).floor().long()
    left = (u[..., 1] * (width - side + 1)).floor().long()
    return torch.stack([top, left, side], dim=-1)


def crop_resize(images: Tensor, boxes: Tensor, size: int) -> Tensor:
    """Cut square windows and resize them bilinearly (align_corners=False, no antialias).

    Args:
        images: ``[N, C, H, W]``.
        boxes: ``[N, K, 3]`` int ``(top, left, side)`` per view, from :func:`sample_crop_boxes`.
        size: output side.

    Returns:
        ``[N * K, C, size, size]``, view-major (crop k of view n at index ``n * K + k``).
    """
    n, c, h, w = images.shape
    if boxes.ndim != 3 or boxes.shape[0] != n or boxes.shape[2] != 3:
        raise InputError(f"boxes must be [{n}, K, 3] (top, left, side), got {tuple(boxes.shape)}")
    k = boxes.shape[1]
    dtype = images.dtype if images.dtype in (torch.float32, torch.float64) else torch.float32
    b = boxes.to(device=images.device, dtype=dtype)
    top, left, side = b[..., 0:1], b[..., 1:2], b[..., 2:3]  # [N, K, 1]
    i = torch.arange(size, device=images.device, dtype=dtype)  # [S]
    # Source pixel coordinate inside the crop, as F.interpolate computes and clamps it.
    src = ((i + 0.5) * side / size - 0.5).clamp(min=0)
    src = torch.minimum(src, side - 1)  # [N, K, S]
    ys = top + src
    xs = left + src
    # grid_sample(align_corners=False) maps pixel p to the normalised coordinate (2p + 1)/L - 1.
    gy = (2 * ys + 1) / h - 1
    gx = (2 * xs + 1) / w - 1
    grid = torch.stack(
        [gx[:, :, None, :].expand(n, k, size, size), gy[:, :, :, None].expand(n, k, size, size)],
        dim=-1,
    ).reshape(n, k * size, size, 2)  # crops stacked vertically: one call, no input copies
    out = F.grid_sample(
        images, grid.to(images.dtype), mode="bilinear", padding_mode="border", align_corners=False
    )  # [N, C, K*S, S]
    return out.view(n, c, k, size, size).transpose(1, 2).reshape(n * k, c, size, size)
