"""Resizing images: one filter for every view, grid and texture photo3d rescales.

Bilinear with antialiasing (a triangle filter whose support grows with the reduction), on
``align_corners=False`` pixel centres: smooth when minifying, no ringing (the weights are
non-negative), so values stay in [0, 1]. Learned or paper-specified resizes (L_adapt crops, the
encoders' own preprocessing) keep their own definitions next to their models.
:func:`pixel_centres` gives those pixel centres in the normalised coordinates of
``grid_sample``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_centres(h: int, w: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``[H, W, 2]`` pixel-centre coordinates ``(x, y)`` in (-1, 1): ``grid_sample``'s identity grid
    with ``align_corners=False``."""
    ys = (torch.arange(h, dtype=dtype) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=dtype) + 0.5) / w * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1)


def resize(images: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """``[B, C, h, w]`` -> ``[B, C, H, W]`` (a no-op at the same size), clamped to [0, 1].

    Args:
        images: float images in [0, 1].
        size: ``(H, W)``, or one side for a square output.
    """
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(images.shape[-2:]) == hw:
        return images
    out = F.interpolate(images, size=hw, mode="bilinear", align_corners=False, antialias=True)
    return out.clamp(0.0, 1.0)
