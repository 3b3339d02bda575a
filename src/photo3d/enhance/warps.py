"""An image editor's structural drift, for building realistic-but-misaligned reference views.

Editors such as GPT-4o-Image keep an object's structure only approximately: details move by a
few pixels, the object shifts, rotates or rescales slightly, and colours drift. The demo and the
detail-recovery benchmark imitate that on renders of a ground-truth texture with
:func:`editor_drift`:

* a smooth random displacement field (Gaussian-filtered noise, ``max_displacement`` pixels at
  512 px, scaled with the image size),
* a global similarity transform (``rotation_deg``, ``scale``, ``shift`` in pixels at 512 px),
* a per-view colour change: per-channel gain and offset (white balance), a global exposure gain,
* a soft lighting gradient: a multiplicative linear ramp across the view in a random direction.

Background pixels are filled with white, as in the rig's renders. :data:`STRONG_DRIFT` is the
stronger editor of the detail-recovery benchmark (+-3 % scale, +-3 deg rotation, +-2 % shift,
smooth local displacements, exposure and white-balance shift, a lighting gradient);
:func:`drift_source` gives the exact source position of every output pixel, so a registration can
be scored against the truth.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from photo3d.imaging.filters import gaussian_blur
from photo3d.imaging.masks import WHITE_TOLERANCE, foreground_mask
from photo3d.imaging.resample import pixel_centres


@dataclass(frozen=True)
class EditorDrift:
    """Strength of :func:`editor_drift` (defaults: the demo's references)."""

    max_displacement: float = 3.0  # pixels at 512 px, peak of the smooth field
    smoothness: float = 24.0  # pixels at 512 px, correlation length of the field
    rotation_deg: float = 1.0
    scale: float = 0.01
    shift: float = 2.0  # pixels at 512 px
    gain: float = 0.04  # per-channel multiplicative colour drift (white balance)
    offset: float = 0.02  # per-channel additive colour drift
    exposure: float = 0.0  # global multiplicative brightness drift, +-
    lighting: float = 0.0  # peak of a multiplicative linear ramp across the view (soft light gradient)

    def to_dict(self) -> dict:
        return asdict(self)


STRONG_DRIFT = EditorDrift(max_displacement=4.0, smoothness=32.0, rotation_deg=3.0, scale=0.03,
                           shift=0.02 * 512, gain=0.05, offset=0.02, exposure=0.08, lighting=0.12)
"""The benchmark's strong editor: +-3 % scale, +-3 deg, +-2 % shift, 4 px local displacements,
white balance +-5 %, exposure +-8 %, a lighting ramp of +-12 % across the view."""


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
    src_x, src_y = _source_pixels(n, h, w, params, gen)
    sample = torch.stack([src_x / (w / 2), src_y / (h / 2)], dim=-1).to(views.dtype)
    # sample (view - background) with zero padding so outside pixels become the background
    out = F.grid_sample(views - background, sample, mode="bilinear", padding_mode="zeros",
                        align_corners=False) + background
    gain = 1.0 + (torch.rand(n, 3, 1, 1, generator=gen) * 2 - 1) * params.gain
    offset = (torch.rand(n, 3, 1, 1, generator=gen) * 2 - 1) * params.offset
    exposure = 1.0 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * params.exposure
    direction = torch.rand(n, generator=gen) * 2 * math.pi
    grid = pixel_centres(h, w).expand(n, h, w, 2)  # ramp: -1..1 along a random direction, times the peak
    ramp = grid[..., 0] * torch.cos(direction).view(n, 1, 1) + grid[..., 1] * torch.sin(direction).view(n, 1, 1)
    light = (1.0 + params.lighting * ramp / math.sqrt(2)).unsqueeze(1)
    fg = foreground_mask(out, WHITE_TOLERANCE)  # recolour the object, not the white
    recoloured = (out * gain.to(out) * exposure.to(out) + offset.to(out)) * light.to(out)
    out = torch.where(fg, recoloured, out)
    return out.clamp(0.0, 1.0)


def drift_source(shape: tuple[int, int, int], params: EditorDrift = EditorDrift(), seed: int = 0) -> torch.Tensor:
    """Where each pixel of :func:`editor_drift`'s output was sampled from in its input.

    Args:
        shape: ``(N, H, W)`` of the views.
        params, seed: as given to :func:`editor_drift`.

    Returns:
        ``[N, 2, H, W]`` source positions (x, y) in pixels (pixel centres at ``i + 0.5``):
        ``edited[:, :, y, x] = view(source[:, :, y, x])``.
    """
    n, h, w = shape
    src_x, src_y = _source_pixels(n, h, w, params, torch.Generator().manual_seed(int(seed)))
    return torch.stack([src_x + w / 2, src_y + h / 2], dim=1)


def _source_pixels(n: int, h: int, w: int, params: EditorDrift, gen: torch.Generator):
    """Source offsets from the image centre, in pixels: ``(x [N,H,W], y [N,H,W])``."""
    px = max(h, w) / 512.0  # parameters are in pixels at the rig's 512 px
    grid = pixel_centres(h, w).expand(n, h, w, 2)
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
    return src_x, src_y


def max_displacement_px(params: EditorDrift, size: int) -> float:
    """Upper bound of how far a pixel can move, in pixels at image size ``size`` (for docs)."""
    px = size / 512.0
    rot = math.radians(params.rotation_deg) * size / 2 * math.sqrt(2)
    return (params.max_displacement + params.shift) * px + rot + params.scale * size / 2 * math.sqrt(2)
