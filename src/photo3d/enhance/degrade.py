"""A documented "generator-like" degradation: what makes a 3D-native asset look plastic.

3D-native generators get geometry right but their textures lack high-frequency detail, have low
local contrast and washed-out colour. :func:`plastic_degrade` imitates that on a real scan's
texture, so that the original texture is a ground truth for how much detail enhancement recovers:

1. Gaussian blur (``blur_sigma`` texels per 1024 texels of texture width) removes fine detail
   (:func:`photo3d.imaging.gaussian_blur`).
2. Local detail flattening: the band between the blurred texture and a much coarser version
   (``8 x blur_sigma``) is scaled by ``local_contrast`` (< 1 flattens mid-frequency shading).
3. Global contrast flattening toward the mean colour by ``contrast``.
4. Desaturation: mix with the luminance (Rec. 709) by ``1 - saturation``.

All steps work on ``[C, H, W]`` float textures in [0, 1] (RGB; an alpha channel passes through).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from photo3d.imaging.color import saturate
from photo3d.imaging.filters import gaussian_blur


@dataclass(frozen=True)
class PlasticDegradation:
    """Parameters of :func:`plastic_degrade` (defaults: the demo's "generated" look)."""

    blur_sigma: float = 3.0
    local_contrast: float = 0.6
    contrast: float = 0.8
    saturation: float = 0.6

    def to_dict(self) -> dict:
        return asdict(self)


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
    out = saturate(out, params.saturation).clamp(0.0, 1.0)[0]
    if texture.shape[0] == 4:
        out = torch.cat([out, texture[3:].float()], dim=0)
    return out
