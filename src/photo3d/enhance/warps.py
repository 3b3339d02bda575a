"""An image editor's structural drift, for building realistic-but-misaligned reference views.

Editors such as GPT-4o-Image keep an object's structure only approximately: details move by a
few pixels, the object shifts, rotates or rescales slightly, and colours drift. The demo and the
detail-recovery benchmark imitate that on renders of a ground-truth texture with
:func:`editor_drift`:

* a smooth random displacement field (Gaussian-filtered noise, ``max_displacement`` pixels at
  512 px, scaled with the image size),
* a global similarity transform (``rotation_deg``, ``scale``, ``shift`` in pixels at 512 px),
* a per-view colour change: per-channel gain and offset, and a brightness change.

Background pixels are filled with white, as in the rig's renders.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from photo3d.imaging.filters import gaussian_blur
from photo3d.imaging.masks import WHITE_TOLERANCE, foreground_mask


@dataclass(frozen=True)
class EditorDrift:
    """Strength of :func:`editor_drift` (defaults: the demo's references)."""

    max_displacement: float = 3.0  # pixels at 512 px, peak of the smooth field
    smoothness: float = 24.0  # pixels at 512 px, correlation length of the field
    rotation_deg: float = 1.0
    scale: float = 0.01
    shift: float = 2.0  # pixels at 512 px
    gain: float = 0.04  # per-channel multiplicative colour drift
    offset: float = 0.02  # per-channel additive colour drift

    def to_dict(self) -> dict:
        return asdict(self)


def editor_drift(views: torch.Tensor, params: EditorDrift = EditorDrift(), seed: int = 0,
                 background: float = 1.0) -> torch.Tensor:
    """Warp and recolour views like an editor that "keeps the structure" only approximately.

    Args:
        views: ``[N, 3, H, W]`` renders in [0, 1] on a ``background`` colour.
        params: drift strengths.
        seed: random seed (the result is deterministic for a given seed).
        background: fill value for pixels warped in from outside the image.

    Returns:
        ``[N, 3, H, W]`` drifted views in [0, 1].
    """
    n, _, h, w = views.shape
    gen = torch.Generator().manual_seed(int(seed))
    px = max(h, w) / 512.0  # parameters are in pixels at the rig's 512 px
    grid = _identity_grid(n, h, w)
    # smooth field: blurred white noise, rescaled so its peak is max_displacement
    noise = torch.randn(n, 2, h, w, generator=gen)
    field = gaussian_blur(noise, params.smoothness * px)
    field = field / field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-8)
    field = field * params.max_displacement * px
    # global similarity transform about the image centre
    ang = torch.deg2rad((torch.rand(n, generator=gen) * 2 - 1) * params.rotation_deg)
    sc = 1.0 + (torch.rand(n, generator=gen) * 2 - 1) * params.scale
    sh = (torch.rand(n, 2, generator=gen) * 2 - 1) * params.shift * px
    xs, ys = grid[..., 0] * (w / 2), grid[..., 1] * (h / 2)  # pixel offsets from the centre
    cos, sin = torch.cos(ang).view(n, 1, 1), torch.sin(ang).view(n, 1, 1)
    src_x = (cos * xs - sin * ys) / sc.view(n, 1, 1) + sh[:, 0].view(n, 1, 1) + field[:, 0]
    src_y = (sin * xs + cos * ys) / sc.view(n, 1, 1) + sh[:, 1].view(n, 1, 1) + field[:, 1]
    sample = torch.stack([src_x / (w / 2), src_y / (h / 2)], dim=-1).to(views.dtype)
    # sample (view - background) with zero padding so outside pixels become the background
    out = F.grid_sample(views - background, sample, mode="bilinear", padding_mode="zeros",
                        align_corners=False) + background
    gain = 1.0 + (torch.rand(n, 3, 1, 1, generator=gen) * 2 - 1) * params.gain
    offset = (torch.rand(n, 3, 1, 1, generator=gen) * 2 - 1) * params.offset
    fg = foreground_mask(out, WHITE_TOLERANCE)  # recolour the object, not the white
    out = torch.where(fg, out * gain.to(out) + offset.to(out), out)
    return out.clamp(0.0, 1.0)


def _identity_grid(n: int, h: int, w: int) -> torch.Tensor:
    """``[N, H, W, 2]`` normalised pixel-centre coordinates (x, y) in (-1, 1)."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).expand(n, h, w, 2)


def max_displacement_px(params: EditorDrift, size: int) -> float:
    """Upper bound of how far a pixel can move, in pixels at image size ``size`` (for docs)."""
    px = size / 512.0
    rot = math.radians(params.rotation_deg) * size / 2 * math.sqrt(2)
    return (params.max_displacement + params.shift) * px + rot + params.scale * size / 2 * math.sqrt(2)
