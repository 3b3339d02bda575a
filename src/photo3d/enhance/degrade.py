"""A documented "generator-like" degradation: what makes a 3D-native asset look plastic.

3D-native generators get geometry right but their textures lack high-frequency detail, have low
local contrast and washed-out colour. :func:`plastic_degrade` imitates that on a real scan's
texture, so that the original texture is a ground truth for how much detail enhancement recovers:

1. Gaussian blur (``blur_sigma`` texels per 1024 texels of texture width) removes fine detail.
2. Local detail flattening: the band between the blurred texture and a much coarser version
   (``8 x blur_sigma``) is scaled by ``local_contrast`` (< 1 flattens mid-frequency shading).
3. Global contrast flattening toward the mean colour by ``contrast``.
4. Desaturation: mix with the luminance (Rec. 709) by ``1 - saturation``.

All steps work on ``[C, H, W]`` float textures in [0, 1] (RGB; an alpha channel passes through).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

_LUMA = (0.2126, 0.7152, 0.0722)


@dataclass(frozen=True)
class PlasticDegradation:
    """Parameters of :func:`plastic_degrade` (defaults: the demo's "generated" look)."""

    blur_sigma: float = 3.0
    local_contrast: float = 0.6
    contrast: float = 0.8
    saturation: float = 0.6

    def to_dict(self) -> dict:
        return asdict(self)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding.

    Args:
        images: ``[B, C, H, W]`` float images.
        sigma: standard deviation in pixels (<= 0 returns the input).

    Returns:
        ``[B, C, H, W]`` blurred images.
    """
    if sigma <= 0:
        return images
    radius = max(1, int(math.ceil(3.0 * sigma)))
    radius = min(radius, images.shape[-1] - 1, images.shape[-2] - 1)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    c = images.shape[1]
    out = F.pad(images, (radius, radius, 0, 0), mode="reflect")
    out = F.conv2d(out, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    out = F.pad(out, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(out, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def plastic_degrade(texture: torch.Tensor, params: PlasticDegradation = PlasticDegradation()) -> torch.Tensor:
    """Make a texture look "generated": blurred, flat, desaturated.

    Args:
        texture: ``[C, H, W]`` float in [0, 1], C = 3 or 4 (alpha is kept).
        params: degradation strengths.

    Returns:
        ``[C, H, W]`` degraded texture in [0, 1].
    """
    rgb = texture[None, :3].float()
    scale = texture.shape[-1] / 1024.0  # sigmas are given for a 1024-texel-wide texture
    blurred = gaussian_blur(rgb, params.blur_sigma * scale)
    coarse = gaussian_blur(rgb, 8.0 * params.blur_sigma * scale)
    out = coarse + params.local_contrast * (blurred - coarse)
    mean = out.mean(dim=(2, 3), keepdim=True)
    out = mean + params.contrast * (out - mean)
    luma = (out * torch.tensor(_LUMA, dtype=out.dtype, device=out.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    out = luma + params.saturation * (out - luma)
    out = out.clamp(0.0, 1.0)[0]
    if texture.shape[0] == 4:
        out = torch.cat([out, texture[3:].float()], dim=0)
    return out
