"""Tiling views into a grid and back (any layout; lossless round trip).

:func:`compose_grid` fills an exact ``rows x cols`` layout (the rig's 2x2 by default);
:func:`tile` lays out any number of views, padding the last row.
"""

from __future__ import annotations

import math

import torch

from photo3d.cameras import RIG_GRID
from photo3d.errors import InputError


def compose_grid(views: torch.Tensor, rows: int = RIG_GRID[0], cols: int = RIG_GRID[1]) -> torch.Tensor:
    """Tile ``[N, C, H, W]`` views row-major into one ``[C, rows*H, cols*W]`` image.

    With the rig's defaults (2x2) the order is TL yaw 0, TR 90, BL 180, BR 270.
    """
    if views.ndim != 4:
        raise InputError(f"compose_grid wants views of shape [N, C, H, W], got {tuple(views.shape)}")
    n, c, h, w = views.shape
    if n != rows * cols:
        raise InputError(f"compose_grid: {n} views do not fill a {rows}x{cols} grid")
    return views.reshape(rows, cols, c, h, w).permute(2, 0, 3, 1, 4).reshape(c, rows * h, cols * w)


def tile(views: torch.Tensor, cols: int | None = None, pad_value: float = 1.0) -> torch.Tensor:
    """Tile ``[N, C, H, W]`` row-major into ``[C, rows*H, cols*W]``, padding with ``pad_value``.

    ``cols`` defaults to ``ceil(sqrt(N))``; ``rows = ceil(N / cols)``.
    """
    n, c, h, w = views.shape
    cols = cols or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    pad = rows * cols - n
    if pad:
        views = torch.cat([views, torch.full((pad, c, h, w), pad_value, dtype=views.dtype, device=views.device)])
    return compose_grid(views, rows, cols)


def split_grid(grid: torch.Tensor, rows: int = RIG_GRID[0], cols: int = RIG_GRID[1]) -> torch.Tensor:
    """Inverse of :func:`compose_grid`: ``[C, rows*H, cols*W]`` -> ``[rows*cols, C, H, W]``."""
    if grid.ndim != 3:
        raise InputError(f"split_grid wants an image of shape [C, H, W], got {tuple(grid.shape)}")
    c, gh, gw = grid.shape
    if gh % rows or gw % cols:
        raise InputError(f"split_grid: a {gh}x{gw} image does not split into {rows}x{cols} equal cells")
    h, w = gh // rows, gw // cols
    return grid.reshape(c, rows, h, cols, w).permute(1, 3, 0, 2, 4).reshape(rows * cols, c, h, w)
