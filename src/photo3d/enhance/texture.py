"""The optimised base-colour texture: the original plus a multi-resolution Laplacian residual.

Why a pyramid of residuals rather than free texels
    The texture is ``original + sum_l upsample(delta_l)`` with ``delta_l`` at ``size / 2**l``
    texels, all initialised to zero, so step 0 reproduces the original *exactly* (no resampling
    round trip). Adam normalises each parameter's step, so one coarse texel moves a whole
    ``2**l x 2**l`` patch by the learning rate at once: global colour and shading shifts (which
    the edited views often carry) converge in a few steps, while the finest level, whose texels
    each receive the gradient of only a pixel or two, adds detail. With free texels the same
    learning rate either crawls on low frequencies or makes the high ones noisy. Textures are
    sampled bilinearly by the renderer, so a texel the references never see gets zero gradient
    from the loss; the final texture is still blended with the original through the texel
    visibility mask (:mod:`photo3d.enhance.visibility`) because the coarse levels spread
    updates beyond the seen texels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LaplacianTexture(nn.Module):
    """``[C, H, W]`` texture = original + sum of upsampled residual levels (only RGB is optimised).

    Args:
        original: ``[C, H, W]`` float texture in [0, 1] (C = 3 or 4; alpha is kept as is).
        levels: number of pyramid levels; level ``l`` has ``ceil(H / 2**l) x ceil(W / 2**l)``
            texels. ``levels=1`` is a plain per-texel parameterisation.
        finest: index of the finest level (0 = full resolution). Views that sample the texture
            every ``s`` texels cannot constrain detail finer than that: the free texels between
            samples only pick up noise (the adversarial speckle that feature losses produce), so
            :func:`finest_level` starts the pyramid at ``2**finest ~ s``. The original's own
            fine detail is kept either way; only the *update* is band-limited.
        straight_through: clamp to [0, 1] in the forward pass only, passing gradients through
            unchanged, so a texel pushed past 0 or 1 by the coarse levels still feels the loss
            (a plain clamp would freeze it there). For fits from a flat start.
        grey_levels: how many of the finest levels change luminance only (one channel added to
            R, G and B alike, which leaves the chroma untouched); colour changes then live on the
            coarser levels. Fine colour that flips from texel to texel is almost never real
            detail but is what feature-loss gradients paint (``benchmarks/speckle_diagnosis.py``).

    Example:
        >>> tex = LaplacianTexture(torch.rand(3, 64, 64), levels=4)
        >>> torch.equal(tex(), tex.original)
        True
    """

    def __init__(self, original: torch.Tensor, levels: int = 5, finest: int = 0,
                 straight_through: bool = False, grey_levels: int = 0) -> None:
        super().__init__()
        self.straight_through = bool(straight_through)
        if original.ndim != 3 or original.shape[0] not in (3, 4):
            raise ValueError(f"original texture must be [3|4, H, W], got {tuple(original.shape)}")
        self.register_buffer("original", original.detach().float().clone())
        _, h, w = original.shape
        # do not go below 4 texels: a 1x1 level would just be a global colour offset per channel,
        # which the next level already expresses
        max_levels = 1 + int(torch.log2(torch.tensor(min(h, w) / 4.0)).clamp(min=0))
        self.finest = max(0, min(int(finest), max_levels - 1))
        levels = max(1, min(levels, max_levels - self.finest))
        self.grey_levels = max(0, min(int(grey_levels), levels))
        self.deltas = nn.ParameterList([
            nn.Parameter(torch.zeros(1, 1 if i < self.grey_levels else 3, -(-h // 2**lvl), -(-w // 2**lvl),
                                     device=original.device))
            for i, lvl in enumerate(range(self.finest, self.finest + levels))
        ])

    @property
    def levels(self) -> int:
        return len(self.deltas)

    def residual(self) -> torch.Tensor:
        """``[3, H, W]`` sum of the upsampled residual levels.

        Reconstructed coarse to fine like a Laplacian pyramid: the running sum is upsampled
        (bilinear, not nearest, so coarse updates stay smooth and print no blocks) to the next
        finer level's size and that level is added; only the last upsampling reaches the full
        texture size, so a step costs ~1.3 full-size passes instead of one per level.
        """
        _, h, w = self.original.shape
        total = None
        for delta in reversed(self.deltas):  # coarse -> fine; grey (1-channel) levels broadcast over RGB
            total = delta if total is None else _upsample(total, delta.shape[-2:]) + delta
        return _upsample(total, (h, w))[0].expand(3, h, w)

    def set_grad_scale(self, scale: torch.Tensor | None) -> None:
        """Multiply the texel-space gradient by ``scale`` (``[1, H, W]``) before it reaches the levels.

        A fixed diagonal preconditioner (:func:`coverage_scale`): texels sampled by few pixels get
        the step they would get if as many pixels saw them as see a typical texel. Unlike Adam's
        normalisation it depends on the geometry only, never on the gradient, so it cannot blow a
        noisy feature-loss gradient up into speckle.
        """
        self.grad_scale = None if scale is None else scale.detach().to(self.original)

    def forward(self) -> torch.Tensor:
        """``[C, H, W]`` current texture in [0, 1]."""
        res = self.residual()
        scale = getattr(self, "grad_scale", None)
        if scale is not None and res.requires_grad:
            res.register_hook(lambda g: g * scale)
        rgb = self.original[:3] + res
        rgb = rgb + (rgb.clamp(0.0, 1.0) - rgb).detach() if self.straight_through else rgb.clamp(0.0, 1.0)
        if self.original.shape[0] == 4:
            return torch.cat([rgb, self.original[3:]], dim=0)
        return rgb


def _upsample(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of ``[1, C, h, w]`` to ``size`` (a no-op at that size)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


def blend_seen(optimised: torch.Tensor, original: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``mask * optimised + (1 - mask) * original``: texels no reference sees keep their values.

    Args:
        optimised, original: ``[C, H, W]`` textures.
        mask: ``[H, W]`` or ``[1, H, W]`` float/bool texel visibility in [0, 1].

    Returns:
        ``[C, H, W]`` texture.
    """
    m = mask.to(optimised.dtype).reshape(1, *optimised.shape[-2:])
    return m * optimised + (1.0 - m) * original


def coverage_scale(coverage: torch.Tensor, max_gain: float = 8.0) -> torch.Tensor:
    """Diagonal preconditioner from per-texel coverage (summed sampling weight over all views).

    ``typical / coverage`` on covered texels, where ``typical`` is the median coverage of the
    covered texels, clamped to ``[1 / max_gain, max_gain]``; 1 where nothing samples the texel.

    Args:
        coverage: ``[1, H, W]`` non-negative.
        max_gain: largest amplification (texels seen by a pixel or two stay bounded).

    Returns:
        ``[1, H, W]`` gradient scale.
    """
    covered = coverage > 0
    if not bool(covered.any()):
        return torch.ones_like(coverage)
    typical = coverage[covered].median()
    scale = (typical / coverage.clamp_min(1e-12)).clamp(1.0 / max_gain, max_gain)
    return torch.where(covered, scale, torch.ones_like(scale))


def recolour_unseen(optimised: torch.Tensor, original: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``original`` with the colour change the optimisation made on the seen texels: per channel,
    the least-squares gain and offset mapping seen ``original`` texels to ``optimised`` ones.

    Texels no reference sees reliably (undersides, grazing faces) then follow the references'
    colour and tone instead of keeping the input's, so no colour edge runs along the border of
    the seen region. Alpha (a fourth channel) is kept.

    Args:
        optimised, original: ``[C, H, W]`` textures (C = 3 or 4).
        mask: ``[H, W]`` or ``[1, H, W]`` texel visibility.

    Returns:
        ``[C, H, W]`` recoloured ``original`` (``original`` itself when fewer than 16 texels are seen).
    """
    seen = mask.reshape(-1) > 0.5
    if int(seen.sum()) < 16:
        return original
    x = original[:3].reshape(3, -1)[:, seen].double()
    y = optimised[:3].reshape(3, -1)[:, seen].double()
    xm, ym = x.mean(1, keepdim=True), y.mean(1, keepdim=True)
    gain = ((x - xm) * (y - ym)).mean(1, keepdim=True) / (x - xm).square().mean(1, keepdim=True).clamp_min(1e-8)
    gain = gain.clamp(0.25, 4.0)  # a flat channel gives no slope: keep it from exploding
    rgb = ((original[:3].reshape(3, -1).double() - xm) * gain + ym).clamp(0.0, 1.0)
    return torch.cat([rgb.to(original.dtype).reshape(original[:3].shape), original[3:]], dim=0)


def finest_level(spacing: float) -> int:
    """Finest useful pyramid level for views that sample the texture every ``spacing`` texels.

    Samples ``s`` texels apart resolve periods of ``2 s`` texels at best (Nyquist), so the
    finest level has texels ``2**k ~ 2 s`` wide: ``k = floor(log2(s)) + 1`` when the views
    undersample the texture (``s > 1``), else 0.
    """
    if spacing <= 1.0:
        return 0
    return int(math.floor(math.log2(spacing))) + 1
