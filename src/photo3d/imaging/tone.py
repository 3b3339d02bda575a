"""Tone matching: move one set of views' foreground colours to another's, view by view.

Image editors shift global exposure and white balance along with the detail they add; Photo3D-MV
reportedly calibrates each edited grid back to its render (spec §2.1, stage 7). Optimising a
texture toward a colour-shifted reference spends most of the loss on the shift (CLIP-like
embeddings are very colour-sensitive) and bakes it into the texture. The enhancer
(``photo3d enhance --tone-match``) and the dataset builder's optional ``tone`` stage both use
:func:`match_tone`.

Modes, per view and channel, over foreground pixels only (the white background stays white):

* ``mean``: shift the reference so its mean equals the render's. Removes exposure and
  white-balance drift but keeps the reference's contrast and saturation, which are part of the
  realism an edit adds (a "plastic" asset is typically flat and desaturated; matching the spread
  too would copy that flatness into the target).
* ``meanstd``: also match the standard deviation (Reinhard-style colour transfer in RGB).
* ``histogram``: match the full per-channel distribution (quantile mapping with linear
  interpolation between the render's sorted values).
* ``consensus``: remove only the differences *between* views: each view's per-channel gain
  over its render (foreground means) is divided by the geometric mean of all views' gains, so the
  edit's common colour change is kept and per-view exposure / white-balance drift is removed (a
  texture fitted to views that disagree in colour shows seams where they meet).
* ``none``: the references as given.

``strength`` blends between the reference (0) and the fully matched colours (1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from photo3d.errors import InputError
from photo3d.imaging.masks import WHITE_TOLERANCE, foreground_mask

if TYPE_CHECKING:  # torch-free at import: configs read ToneMode without torch
    import torch

ToneMode = Literal["none", "mean", "meanstd", "histogram", "consensus"]
TONE_MODES: tuple[str, ...] = get_args(ToneMode)
MIN_PIXELS = 16  # fewer foreground pixels than this on either side: nothing meaningful to match


def match_tone(
    reference: torch.Tensor,
    render: torch.Tensor,
    *,
    mode: ToneMode = "mean",
    strength: float = 1.0,
    reference_mask: torch.Tensor | None = None,
    render_mask: torch.Tensor | None = None,
    white_tolerance: float = WHITE_TOLERANCE,
) -> torch.Tensor:
    """Move each reference view's foreground colour statistics to those of its render.

    Args:
        reference: ``[N, 3, H, W]`` edited views in [0, 1] (split a 2x2 grid with
            :func:`photo3d.grid.split_grid` first).
        render: ``[N, 3, H', W']`` renders at the same cameras.
        mode: ``"none"``, ``"mean"``, ``"meanstd"`` or ``"histogram"``.
        strength: blend weight of the matched colours (0 = unchanged, 1 = fully matched).
        reference_mask: ``[N, 1, H, W]`` bool foreground of the references (default:
            :func:`~photo3d.imaging.masks.foreground_mask` with ``white_tolerance``).
        render_mask: ``[N, 1, H', W']`` bool foreground of the renders (default: the same rule;
            pass the render alpha > 0.5 when you have it).
        white_tolerance: the default masks' tolerance (see :mod:`photo3d.imaging.masks`).

    Returns:
        ``[N, 3, H, W]`` calibrated references in [0, 1]; background pixels are unchanged.

    Raises:
        InputError: an unknown mode, or inputs that are not ``[N, 3, H, W]`` view batches.
    """
    if mode not in TONE_MODES:
        raise InputError(f"unknown tone matching mode {mode!r}; use {', '.join(TONE_MODES)}")
    for name, x in (("reference", reference), ("render", render)):
        if x.ndim != 4 or x.shape[1] != 3:
            raise InputError(f"match_tone wants {name} views [N, 3, H, W], got {tuple(x.shape)}; "
                             "split a grid into views with photo3d.grid.split_grid")
    if mode == "none" or strength <= 0:
        return reference.clone()
    ref_m = foreground_mask(reference, white_tolerance) if reference_mask is None else reference_mask.bool()
    ren_m = foreground_mask(render, white_tolerance) if render_mask is None else render_mask.bool()
    out = reference.clone()
    if mode == "consensus":
        return _consensus(reference, render, ref_m, ren_m, strength)
    for i in range(reference.shape[0]):
        rm, gm = ref_m[i, 0], ren_m[i, 0]
        if rm.sum() < MIN_PIXELS or gm.sum() < MIN_PIXELS:
            continue
        for c in range(3):
            src = reference[i, c][rm]
            matched = _match_channel(src, render[i, c][gm], mode)
            out[i, c][rm] = matched if strength >= 1 else (1 - strength) * src + strength * matched
    return out.clamp(0.0, 1.0)


def _consensus(reference, render, ref_m, ren_m, strength: float):
    """``consensus`` mode (see module docs): per-view gains relative to their geometric mean."""
    import torch

    n = reference.shape[0]
    gains = torch.ones(n, 3, dtype=torch.float64)
    ok = torch.zeros(n, dtype=torch.bool)
    for i in range(n):
        rm, gm = ref_m[i, 0], ren_m[i, 0]
        if rm.sum() < MIN_PIXELS or gm.sum() < MIN_PIXELS:
            continue
        for c in range(3):
            gains[i, c] = reference[i, c][rm].double().mean().clamp_min(1e-3) / render[i, c][gm].double().mean().clamp_min(1e-3)
        ok[i] = True
    out = reference.clone()
    if int(ok.sum()) < 2:
        return out
    common = gains[ok].log().mean(0).exp()
    for i in torch.nonzero(ok)[:, 0].tolist():
        rm = ref_m[i, 0]
        factor = (common / gains[i]) ** strength
        for c in range(3):
            out[i, c][rm] = reference[i, c][rm] * float(factor[c])
    return out.clamp(0.0, 1.0)


def _match_channel(src: torch.Tensor, dst: torch.Tensor, mode: str) -> torch.Tensor:
    """1-D values ``src`` remapped toward the statistics of ``dst``."""
    import torch

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
