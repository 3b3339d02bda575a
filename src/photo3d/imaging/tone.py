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
* ``drift``: remove each view's colour *drift* relative to the other views, with a model of what
  an editor does to one view: ``edited = (gain * c + offset) * (1 + ramp . xy)`` per channel,
  i.e. white balance, exposure and a soft lighting gradient across the image (``xy`` in
  [-1, 1]). The views' common colour change (the edit's realism: contrast, saturation) is one
  3x4 colour matrix fitted on all views together; each view's gain, offset and ramp are fitted
  on top of it (regularised least squares on paired pixels, :func:`fit_view_drift`) and replaced by
  the views' consensus (geometric-mean gain, mean offset, no ramp). Pixel pairs should be
  registered (``photo3d enhance`` fits it on the optical-flow-registered views, weighted by their
  confidence); :func:`match_tone` pairs pixels as they are, which is close enough for drift of a
  few pixels.
* ``none``: the references as given.

``strength`` blends between the reference (0) and the fully matched colours (1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from photo3d.errors import InputError
from photo3d.imaging.masks import WHITE_TOLERANCE, foreground_mask

if TYPE_CHECKING:  # torch-free at import: configs read ToneMode without torch
    import torch

ToneMode = Literal["none", "mean", "meanstd", "histogram", "consensus", "drift"]
TONE_MODES: tuple[str, ...] = get_args(ToneMode)
MIN_PIXELS = 16  # fewer foreground pixels than this on either side: nothing meaningful to match
# drift: a channel this close to 0 or 1 is left out of the fit at that pixel (clipped by the editor)
CLIP_MARGIN = 0.01
# drift: ridge pulling the common 3x4 colour matrix toward per-channel gains, relative to the
# colour variance; an object of nearly one colour leaves the cross-channel terms undetermined
COMMON_RIDGE = 0.05
# drift: gains are pulled toward 1 as if the colours had at least this spread (std): on a
# nearly one-coloured object gain and offset explain the same pixels, and the offset takes it
PRIOR_SPREAD = 0.05
# drift: the ramp is pulled toward 0 as if the object spanned at least this much (std of x, y) of the view
PRIOR_RAMP = 0.1
# drift: a view whose fitted gain leaves this range (or whose ramp exceeds MAX_RAMP) is left as is
GAIN_RANGE = (0.5, 2.0)
MAX_RAMP = 0.5
DRIFT_ITERATIONS = 4  # Gauss-Newton steps per view (the model is nearly linear in its parameters)


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
        mode: one of :data:`TONE_MODES` (see the module docs).
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
    if mode == "consensus":
        return _consensus(reference, render, ref_m, ren_m, strength)
    if mode == "drift":
        if ref_m.shape != ren_m.shape:
            raise InputError("match_tone(mode='drift') pairs pixels: reference and render must have the same "
                             f"size, got {tuple(reference.shape)} and {tuple(render.shape)}")
        pairs = (ref_m & ren_m).to(reference.dtype)
        return fit_view_drift(reference, render, pairs).remove(reference, ref_m, strength)
    out = reference.clone()
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


@dataclass
class ViewDrift:
    """Per-view colour drift fitted by :func:`fit_view_drift` (float64, on the CPU).

    Attributes:
        gain: ``[N, 3]`` per-channel gain of each view (white balance times exposure).
        offset: ``[N, 3]`` per-channel offset.
        ramp: ``[N, 2]`` lighting gradient: the view is multiplied by ``1 + ramp . (x, y)``,
            ``(x, y)`` in [-1, 1] across the image.
        ok: ``[N]`` views whose fit is trusted (enough pixels, gain and ramp in range); the
            others are left unchanged by :meth:`remove`.
        common_gain, common_offset: ``[3]`` the consensus the views are moved to.
    """

    gain: torch.Tensor
    offset: torch.Tensor
    ramp: torch.Tensor
    ok: torch.Tensor
    common_gain: torch.Tensor
    common_offset: torch.Tensor

    def remove(self, views: torch.Tensor, mask: torch.Tensor | None = None, strength: float = 1.0) -> torch.Tensor:
        """``views`` (``[N, 3, H, W]``, the fitted views or the same views in another frame a few
        pixels away) with each trusted view's drift replaced by the consensus, on ``mask``
        (default: :func:`~photo3d.imaging.masks.foreground_mask`); clamped to [0, 1]."""
        import torch

        if views.shape[0] != self.gain.shape[0]:
            raise InputError(f"ViewDrift of {self.gain.shape[0]} views applied to {views.shape[0]}")
        m = foreground_mask(views, WHITE_TOLERANCE) if mask is None else mask.bool()
        x = views.double()
        light = 1.0 + _ramp(self.ramp, _coords(views.shape[-2:]).to(x.device))  # [N, 1, H, W]
        g, o = self.gain.to(x.device)[..., None, None], self.offset.to(x.device)[..., None, None]
        cg, co = self.common_gain.to(x.device).view(1, 3, 1, 1), self.common_offset.to(x.device).view(1, 3, 1, 1)
        fixed = (x / light - o) / g * cg + co
        if strength < 1:
            fixed = (1 - strength) * x + strength * fixed
        use = m & self.ok.to(views.device).view(-1, 1, 1, 1)
        return torch.where(use, fixed.to(views.dtype), views).clamp(0.0, 1.0)

    def to_record(self) -> list[dict]:
        """One dict per view (rounded), for ``record.json``."""
        return [{"view": i, "ok": bool(self.ok[i]), "gain": [round(float(v), 4) for v in self.gain[i]],
                 "offset": [round(float(v), 4) for v in self.offset[i]],
                 "ramp": [round(float(v), 4) for v in self.ramp[i]]} for i in range(len(self.ok))]


def fit_view_drift(reference: torch.Tensor, render: torch.Tensor, weight: torch.Tensor,
                   iterations: int = DRIFT_ITERATIONS) -> ViewDrift:
    """Fit each view's colour drift (``drift`` mode, see the module docs) on paired pixels.

    ``reference[v] ~ (gain_v * common(render[v]) + offset_v) * (1 + ramp_v . xy)``: ``common`` is one
    3x4 colour matrix for all views (the edit's own colour change, kept; weighted least squares),
    gain / offset / ramp are the view's drift (a regularised Gauss-Newton fit per view); the two
    are fitted in turn, twice. Pixels clipped by the editor (within :data:`CLIP_MARGIN` of 0 or 1)
    are left out, channel by channel.

    Args:
        reference: ``[N, 3, H, W]`` edited views in [0, 1].
        render: ``[N, 3, H, W]`` renders, pixel-aligned with ``reference``.
        weight: ``[N, 1, H, W]`` trust in each pixel pair (0 = unused), e.g. registration confidence.
        iterations: Gauss-Newton steps of each view's fit.

    Returns:
        :class:`ViewDrift`.
    """
    import torch

    if reference.shape != render.shape or reference.ndim != 4 or reference.shape[1] != 3:
        raise InputError(f"fit_view_drift wants paired [N, 3, H, W] views, got {tuple(reference.shape)} and "
                         f"{tuple(render.shape)}")
    n = reference.shape[0]
    y, x = reference.detach().double().cpu(), render.detach().double().cpu()
    # per channel: a saturated colour clips one channel (a yellow's blue at 0) and keeps the others
    unclipped = (y > CLIP_MARGIN) & (y < 1 - CLIP_MARGIN)
    w = weight.detach().double().cpu().clamp_min(0) * unclipped  # [N, 3, H, W]
    xy = _coords(reference.shape[-2:])  # [2, H, W]
    gain, offset = torch.ones(n, 3, dtype=torch.float64), torch.zeros(n, 3, dtype=torch.float64)
    ramp = torch.zeros(n, 2, dtype=torch.float64)
    ok = w.gt(0).any(1).flatten(1).sum(1) >= MIN_PIXELS
    for _ in range(2):  # common matrix on views with their current drift removed, then the drift again
        light = 1.0 + _ramp(ramp, xy)
        undrifted = (y / light - offset[..., None, None]) / gain[..., None, None]
        common = _fit_common(x, undrifted, w * ok.view(-1, 1, 1, 1))
        p = _apply_common(common, x)
        for v in range(n):
            gain[v], offset[v], ramp[v] = _fit_view(p[v], y[v], w[v], xy, iterations)
    ok &= ((gain > GAIN_RANGE[0]) & (gain < GAIN_RANGE[1])).all(1) & (ramp.abs() < MAX_RAMP).all(1)
    if int(ok.sum()) >= 2:
        cg, co = gain[ok].log().mean(0).exp(), offset[ok].mean(0)
    else:  # no consensus to move to: leave every view as it is
        ok = torch.zeros_like(ok)
        cg, co = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    return ViewDrift(gain, offset, ramp, ok, cg, co)


def _coords(size) -> torch.Tensor:
    """``[2, H, W]`` float64 pixel-centre coordinates (x, y) in (-1, 1)."""
    import torch

    from photo3d.imaging.resample import pixel_centres

    return pixel_centres(*size, dtype=torch.float64).permute(2, 0, 1)


def _ramp(ramp: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """``[N, 1, H, W]`` ``ramp . (x, y)`` of each view (``xy``: :func:`_coords`)."""
    return (ramp.to(xy)[:, :, None, None] * xy[None]).sum(1, keepdim=True)


def _fit_common(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``[4, 3]`` colour matrix ``y ~ [x, 1] @ M`` over all views (``w``: ``[N, 3, H, W]`` weights of
    each output channel), ridge toward per-channel gains and offsets."""
    import torch

    feats = torch.cat([x, torch.ones_like(x[:, :1])], 1).permute(0, 2, 3, 1).reshape(-1, 4)
    tgt = y.permute(0, 2, 3, 1).reshape(-1, 3)
    ww = w.permute(0, 2, 3, 1).reshape(-1, 3)
    out = torch.cat([torch.eye(3, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64)])
    gain, offset = _fit_gain_offset(x.transpose(0, 1).reshape(1, 3, -1, 1), y.transpose(0, 1).reshape(1, 3, -1, 1),
                                    w.transpose(0, 1).reshape(1, 3, -1, 1))
    for c in range(3):  # one least-squares problem per output channel, over its unclipped pixels
        wc = ww[:, c:c + 1]
        total = float(wc.sum())
        if total <= 0:
            continue
        prior = torch.zeros(4, dtype=torch.float64)
        prior[c], prior[3] = gain[0, c], offset[0, c]
        mean = (feats[:, :3] * wc).sum(0) / total
        var = ((feats[:, :3] - mean).square() * wc).sum(0) / total
        lam = COMMON_RIDGE * float(var.clamp_min(PRIOR_SPREAD ** 2).mean()) * total
        reg = torch.diag(torch.tensor([lam, lam, lam, 0.0], dtype=torch.float64))
        a = feats.T @ (feats * wc) + reg
        out[:, c] = torch.linalg.solve(a, feats.T @ (tgt[:, c:c + 1] * wc) + reg @ prior[:, None])[:, 0]
    return out


def _apply_common(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``[x, 1] @ m`` per pixel of ``[N, 3, H, W]`` views."""
    import torch

    return torch.einsum("nchw,cd->ndhw", x, m[:3]) + m[3].view(1, 3, 1, 1)


def _fit_gain_offset(p: torch.Tensor, y: torch.Tensor, w: torch.Tensor):
    """Per view and channel, weighted least squares ``y ~ gain * p + offset`` with the gain pulled
    toward 1 (:data:`PRIOR_SPREAD`): ``([N, 3], [N, 3])``; no pixels: gain 1, offset 0."""
    import torch

    s = lambda t: (t * w).sum(dim=(2, 3))  # noqa: E731  [N, 3]
    sw, sp, sy, spp, spy = s(torch.ones_like(p)), s(p), s(y), s(p * p), s(p * y)
    k = PRIOR_SPREAD ** 2 * sw  # the prior weighs like pixels spread PRIOR_SPREAD around the mean
    det = sw * (spp + k) - sp * sp
    good = sw > 0
    gain = torch.where(good, (sw * (spy + k) - sp * sy) / det.clamp_min(1e-30), torch.ones_like(det))
    offset = torch.where(good, (sy - gain * sp) / sw.clamp_min(1e-30), torch.zeros_like(det))
    return gain, offset


def _fit_view(p: torch.Tensor, y: torch.Tensor, w: torch.Tensor, xy: torch.Tensor, iterations: int):
    """One view's ``y ~ (gain * p + offset) * (1 + ramp . xy)`` by Gauss-Newton, the gains pulled
    toward 1 and the ramp toward 0 (:data:`PRIOR_SPREAD`, :data:`PRIOR_RAMP`): a small object near
    the image centre hardly tells a ramp from an offset, a one-coloured one a gain from an offset.

    Args:
        p, y: ``[3, H, W]`` common-mapped render and reference; w: ``[3, H, W]`` weights per channel;
        xy: ``[2, H, W]``.

    Returns:
        ``(gain [3], offset [3], ramp [2])`` float64.
    """
    import torch

    theta = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=torch.float64)  # g, o, r
    sel = (w > 0).any(0)
    if int(sel.sum()) < MIN_PIXELS:
        return theta[:3], theta[3:6], theta[6:]
    pw, yw, ww, c = p[:, sel], y[:, sel], w[:, sel], xy[:, sel]  # [3, P], [3, P], [3, P], [2, P]
    sw = ww.sum(1)  # [3]
    level = float(((pw.square() * ww).sum() / sw.sum().clamp_min(1e-12)))  # ~ colour level: the ramp's lever
    floor = 1e-9 * sw.sum()  # keeps a channel with no unclipped pixel solvable (gain 1, offset 0)
    prior = torch.cat([PRIOR_SPREAD ** 2 * sw + floor, floor.expand(3),
                       torch.full((2,), PRIOR_RAMP ** 2 * level * float(sw.mean()), dtype=torch.float64)])
    target = torch.tensor([1.0] * 3 + [0.0] * 5, dtype=torch.float64)
    for _ in range(iterations):
        g, o, r = theta[:3, None], theta[3:6, None], theta[6:]
        light = 1.0 + (r[:, None] * c).sum(0)  # [P]
        q = g * pw + o  # [3, P]
        res = q * light - yw
        jac = torch.zeros(8, 3, pw.shape[1], dtype=torch.float64)  # d residual / d theta, per channel
        for ch in range(3):
            jac[ch, ch] = pw[ch] * light
            jac[3 + ch, ch] = light
        jac[6:] = c[:, None, :] * q[None]
        jw = jac * ww[None]
        a = torch.einsum("icp,jcp->ij", jw, jac) + torch.diag(prior)
        b = torch.einsum("icp,cp->i", jw, res) + prior * (theta - target)
        theta = theta - torch.linalg.solve(a, b)
    return theta[:3], theta[3:6], theta[6:]


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
