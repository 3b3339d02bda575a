"""Binary morphology of ``[B, 1, H, W]`` masks with square structuring elements.

Square windows of side ``2 * radius + 1`` through max-pooling: cheap on CPU and GPU, and what
every mask in photo3d needs (speck removal, hole filling, margins). Pixels outside the image do
not take part: an eroded mask does not shrink from the image border.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Grow ``mask`` by ``radius`` pixels (bool in, bool out; float in, float out)."""
    if radius <= 0:
        return mask
    m = mask.float() if mask.dtype == torch.bool else mask
    out = F.max_pool2d(m, 2 * radius + 1, stride=1, padding=radius)
    return out > 0.5 if mask.dtype == torch.bool else out


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Shrink ``mask`` by ``radius`` pixels (bool in, bool out; float in, float out)."""
    if radius <= 0:
        return mask
    m = mask.float() if mask.dtype == torch.bool else mask
    out = -F.max_pool2d(-m, 2 * radius + 1, stride=1, padding=radius)
    return out > 0.5 if mask.dtype == torch.bool else out


def opening(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Erosion then dilation: removes specks narrower than ``2 * radius + 1``."""
    return dilate(erode(mask, radius), radius)


def closing(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Dilation then erosion: fills holes narrower than ``2 * radius + 1``."""
    return erode(dilate(mask, radius), radius)
