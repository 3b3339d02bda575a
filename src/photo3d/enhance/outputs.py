"""Pictures of an enhance run: grids, held-out turntable tiles, a before|after GIF, textures.

Every file goes through :mod:`photo3d.io` (temporary file + rename), so a crash or Ctrl-C never
leaves a truncated PNG/GIF behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from photo3d.cameras import Cameras, heldout_cameras, orbit_cameras
from photo3d.io import atomic_write_bytes, encode_gif

TURNTABLE_PITCHES = (-20.0, 20.0)
GIF_FRAMES = 16
GIF_PITCH = 20.0
GIF_MAX_SIZE = 256


def turntable_cameras(resolution: int) -> Cameras:
    """Held-out views between the rig's yaws (45/135/225/315) at pitch -20 and +20: 8 views."""
    return heldout_cameras(resolution, TURNTABLE_PITCHES)


def gif_cameras(resolution: int, frames: int = GIF_FRAMES) -> Cameras:
    """A full turn of ``frames`` yaws at pitch 20 (small, for the GIF)."""
    yaws = np.arange(frames) * 360.0 / frames
    return orbit_cameras(yaws, GIF_PITCH, resolution=min(resolution, GIF_MAX_SIZE))


def save_gif(path: str | Path, frames: Sequence[torch.Tensor], duration_ms: int = 120) -> Path:
    """Write ``[3, H, W]`` frames as a looping GIF, atomically."""
    return atomic_write_bytes(path, encode_gif(list(frames), duration_ms))


def side_by_side(before: torch.Tensor, after: torch.Tensor, gap: int = 4) -> torch.Tensor:
    """``[N, 3, H, W]`` x 2 -> ``[N, 3, H, 2W + gap]`` (white gap)."""
    n, c, h, _ = before.shape
    sep = torch.ones(n, c, h, gap, dtype=before.dtype)
    return torch.cat([before, sep, after], dim=3)
