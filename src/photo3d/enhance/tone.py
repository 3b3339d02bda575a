"""Tone matching: calibrate edited reference views to the renders' colours on the foreground.

Image editors shift global exposure and white balance along with the detail they add; Photo3D-MV
reportedly calibrates each edited grid back to its render (spec §2.1, stage 7). Optimising a
texture toward a colour-shifted reference spends most of the loss on the shift (CLIP-like
embeddings are very colour-sensitive) and bakes it into the texture.

Modes, per view and channel, over foreground pixels only (the white background stays white):

* ``mean`` (the default): shift the reference so its mean equals the render's. Removes exposure and
  white-balance drift but keeps the reference's contrast and saturation, which are part of the
  realism an edit adds (a "plastic" asset is typically flat and desaturated; matching the spread
  too would copy that flatness into the target).
* ``meanstd``: also match the standard deviation (Reinhard-style colour transfer).
* ``histogram``: match the full per-channel distribution (quantile mapping).
* ``none``: use the references as given.
"""

from __future__ import annotations

import torch

FOREGROUND_THRESHOLD = 250.0 / 255.0  # the released L_match mask: any channel < 250/255 is object


def foreground_mask(images: torch.Tensor, threshold: float = FOREGROUND_THRESHOLD) -> torch.Tensor:
    """``[N, 3, H, W]`` images on white -> ``[N, 1, H, W]`` bool, True where any channel < threshold."""
    return (images < threshold).any(dim=1, keepdim=True)


def match_tone(
    reference: torch.Tensor,
    render: torch.Tensor,
    reference_mask: torch.Tensor | None = None,
    render_mask: torch.Tensor | None = None,
    mode: str = "mean",
) -> torch.Tensor:
    """Move each reference view's foreground colour statistics to those of its render.

    Args:
        reference: ``[N, 3, H, W]`` edited views in [0, 1].
        render: ``[N, 3, H, W]`` renders of the current asset at the same cameras.
        reference_mask: ``[N, 1, H, W]`` bool foreground of the references (default:
            :func:`foreground_mask`).
        render_mask: ``[N, 1, H, W]`` bool foreground of the renders (default:
            :func:`foreground_mask`; pass the render alpha > 0.5 when you have it).
        mode: ``"none"``, ``"mean"``, ``"meanstd"`` or ``"histogram"``.

    Returns:
        ``[N, 3, H, W]`` calibrated references in [0, 1]; background pixels are unchanged.
    """
    if mode == "none":
        return reference.clone()
    if mode not in ("mean", "meanstd", "histogram"):
        raise ValueError(f"unknown tone matching mode {mode!r}; use none, mean, meanstd or histogram")
    ref_m = foreground_mask(reference) if reference_mask is None else reference_mask.bool()
    ren_m = foreground_mask(render) if render_mask is None else render_mask.bool()
    out = reference.clone()
    for i in range(reference.shape[0]):
        rm, gm = ref_m[i, 0], ren_m[i, 0]
        if rm.sum() < 16 or gm.sum() < 16:  # nothing meaningful to match
            continue
        for c in range(3):
            src = reference[i, c][rm]
            dst = render[i, c][gm]
            out[i, c][rm] = _match_channel(src, dst, mode)
    return out.clamp(0.0, 1.0)


def _match_channel(src: torch.Tensor, dst: torch.Tensor, mode: str) -> torch.Tensor:
    """1-D values ``src`` remapped toward the statistics of ``dst``."""
    if mode == "mean":
        return src - src.mean() + dst.mean()
    if mode == "meanstd":
        return (src - src.mean()) / src.std().clamp(min=1e-4) * dst.std() + dst.mean()
    # histogram: each source value goes to the destination quantile of its rank
    order = torch.argsort(src)
    ranks = torch.empty_like(order)
    ranks[order] = torch.arange(src.numel(), device=src.device)
    q = (ranks.float() + 0.5) / src.numel()
    dst_sorted = torch.sort(dst).values
    pos = q * (dst.numel() - 1)
    lo = pos.floor().long().clamp(0, dst.numel() - 1)
    hi = (lo + 1).clamp(max=dst.numel() - 1)
    frac = pos - lo.float()
    return dst_sorted[lo] * (1 - frac) + dst_sorted[hi] * frac
