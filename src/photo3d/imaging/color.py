"""Luminance and saturation, with one standard: Rec. 709 (the sRGB primaries).

photo3d's images are sRGB renders and photos, so luminance uses the Rec. 709 / sRGB weights
``Y = 0.2126 R + 0.7152 G + 0.0722 B`` (applied to the stored values, as image tools do).
"""

from __future__ import annotations

import torch

LUMA_REC709 = (0.2126, 0.7152, 0.0722)


def luminance(images: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` -> ``[B, 1, H, W]`` Rec. 709 luminance."""
    w = torch.tensor(LUMA_REC709, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * w).sum(1, keepdim=True)


def saturate(images: torch.Tensor, saturation: float) -> torch.Tensor:
    """Mix ``[B, 3, H, W]`` images with their luminance: 0 = grey, 1 = unchanged, > 1 = more colourful."""
    luma = luminance(images)
    return luma + saturation * (images - luma)
