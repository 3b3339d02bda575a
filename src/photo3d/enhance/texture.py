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

What unseen texels hold
    :func:`recolour_unseen` carries the seen texels' global colour change to them, and
    :func:`diffuse_change` adds the local change of their seen surroundings, diffused over the
    welded mesh (the baker's harmonic fill), so a seen and an unseen part of one surface meet
    without a colour edge; it also refills chart borders that a blurred input's gutter bled into.
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


MIN_BLEEDING = 0.1  # median pull of chart borders toward the gutter colour above which they are healed
MAX_BAND_SHARE = 0.25  # ... when the border band is at most this share of the chart texels


def gutter_bleeding(texture: torch.Tensor, healed: torch.Tensor, covered: torch.Tensor,
                    interior: torch.Tensor) -> float:
    """How far ``texture``'s chart-border texels are pulled toward the gutter's colour, as the median
    fraction ``a`` of ``texture = (1 - a) * healed + a * gutter`` over the border band (``covered``
    minus ``interior``), ``healed`` being the border continued from the charts' interiors.

    0 for a clean atlas (border detail is as often lighter as darker than its continuation), ~0.3 -
    0.5 for a texture blurred across its chart borders (the gutter bled in). Border texels whose
    continuation has the gutter's colour anyway carry no evidence and are left out.
    """
    from photo3d.imaging.morphology import dilate

    ring = dilate(covered[None, None], 2)[0, 0] & ~covered
    band = covered & ~interior
    if int(ring.sum()) < 16 or int(band.sum()) < 16:
        return 0.0
    gutter = texture[:, ring].median(dim=1).values[:, None]  # [3, 1]
    towards = healed[:, band] - gutter
    norm = towards.square().sum(0)
    informative = norm > 0.1 ** 2
    if int(informative.sum()) < 16:
        return 0.0
    pull = ((healed[:, band] - texture[:, band]) * towards).sum(0) / norm.clamp_min(1e-12)
    return float(pull[informative].median())


def diffuse_change(optimised: torch.Tensor, keep: torch.Tensor, mask: torch.Tensor, mesh, material: int,
                   margin: int = 0, seam_band: int = 0) -> torch.Tensor:
    """``optimised`` where the views constrain it; elsewhere ``keep`` plus the change the
    optimisation made next to it, diffused over the surface.

    The change ``optimised - keep`` of the seen texels is the known data of the baker's harmonic
    fill over the welded mesh (:func:`photo3d.bake.inpaint.fill_unseen`): an unseen patch inside a
    chart, or across a UV seam from the seen surface, continues the colour of its seen border
    instead of meeting it at an edge (which shows as a colour seam in any view that sees both).
    Two bands are filled rather than trusted:

    * the seen region's outer ``margin`` texels (the visibility mask's dilation, which the views
      barely constrain);
    * the ``seam_band`` texels along every chart border: a render's bilinear taps there straddle
      the gutter, so the views pin them down poorly, and a generator's texture is often darkened
      there by bleeding from the gutter. ``keep`` itself is first healed there (its colours
      diffused over the welded mesh from the charts' interiors, across the seam), so both sides
      of a UV seam meet at one colour.

    Gutter texels next to the charts take the nearest chart texel's colour (the baker's seam
    dilation); texels farther off (another material's charts, unused atlas space) keep ``keep``.

    Args:
        optimised: ``[C, H, W]`` optimised texture of ``material``.
        keep: ``[C, H, W]`` what unseen texels hold without the change (e.g. :func:`recolour_unseen`).
        mask: ``[H, W]`` or ``[1, H, W]`` texel visibility.
        mesh: the :class:`~photo3d.assets.mesh.Mesh` whose faces of ``material`` use the texture.
        material: material index.
        margin: texels of the seen region's border that are filled instead of kept.
        seam_band: texels along chart borders that are filled instead of kept (0 = none).

    Returns:
        ``[C, H, W]`` texture (:func:`blend_seen` of ``optimised`` and ``keep`` when the texture is
        not square, no texel is seen, or the material has no UVs).
    """
    from photo3d.assets.bake import fill_empty
    from photo3d.assets.mesh import Mesh
    from photo3d.bake.inpaint import fill_unseen
    from photo3d.bake.texels import texel_surface
    from photo3d.imaging.morphology import dilate, erode

    h, w = optimised.shape[-2:]
    seen = erode(mask.reshape(1, 1, h, w) > 0.5, margin)[0, 0]
    faces = mesh.faces[mesh.face_material == material]
    if h != w or mesh.uv is None or len(faces) == 0 or int(seen.sum()) < 16:
        return blend_seen(optimised, keep, mask)
    sub = Mesh(mesh.vertices, faces, uv=mesh.uv)
    surface = texel_surface(sub, h)
    dev = keep.device
    covered = torch.as_tensor(surface.covered, device=dev)
    interior = erode(covered[None, None], seam_band)[0, 0] if seam_band > 0 else covered
    base, known = keep[:3], seen
    # thin charts (most of their texels on the border) cannot be continued from their interior
    if seam_band > 0 and float((covered & ~interior).sum()) <= MAX_BAND_SHARE * float(covered.sum()):
        healed = fill_unseen(sub, surface, base.cpu(), interior.cpu()).to(keep)
        if gutter_bleeding(keep[:3], healed, covered, interior) > MIN_BLEEDING:
            base, known = healed, seen & (interior | ~covered)
    change = fill_unseen(sub, surface, (optimised[:3] - base).cpu(), known.cpu()).to(keep)
    rgb = torch.where(known | ~covered, optimised[:3], (base + change).clamp(0.0, 1.0))
    near = dilate(covered[None, None], margin + 2)[0, 0] & ~covered & ~known
    ring = torch.as_tensor(fill_empty(rgb.permute(1, 2, 0).cpu().numpy(), (covered | known).cpu().numpy()),
                           device=dev).permute(2, 0, 1)
    rgb = torch.where(near, ring.to(rgb), rgb)
    rgb = torch.where(~(known | covered | near), keep[:3], rgb)
    return torch.cat([rgb, keep[3:]], dim=0)


def finest_level(spacing: float) -> int:
    """Finest useful pyramid level for views that sample the texture every ``spacing`` texels.

    Samples ``s`` texels apart resolve periods of ``2 s`` texels at best (Nyquist), so the
    finest level has texels ``2**k ~ 2 s`` wide: ``k = floor(log2(s)) + 1`` when the views
    undersample the texture (``s > 1``), else 0.
    """
    if spacing <= 1.0:
        return 0
    return int(math.floor(math.log2(spacing))) + 1
