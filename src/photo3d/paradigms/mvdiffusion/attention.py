"""Decoupled multi-view and reference attention for a diffusers ``UNet2DConditionModel``.

MV-Adapter (and Step1X-3D's texture model, which reuses it) keeps every pretrained SDXL weight and
adds, next to each self-attention layer (``attn1``), two parallel branches whose outputs are added
to the layer's own output:

* **multi-view** (``to_q_mv``, ``to_k_mv``, ``to_v_mv``, ``to_out_mv``): attention *across* views
  between tokens on the same image row ("row attention"; the views circle the object at one
  elevation, so a surface point stays on its row) and, for the 6-view rig, between tokens on the
  same image column of the front, back, top and bottom views, the front flipped horizontally so
  its columns line up with the back's ("column attention"). A view in both groups averages them.
* **reference** (``to_q_ref``, ``to_k_ref``, ``to_v_ref``, ``to_out_ref``): attention from every
  view's tokens to the reference image's tokens at the same layer, cached by one UNet pass over
  the reference latents at t = 0.

The extra projections start as copies of the layer's ``to_q/k/v/out`` and the out projections of
both branches start at zero, so the adapted UNet first behaves exactly like the base model. The
processors are ``nn.Module`` children of the attention layers, hence their weights appear in
``unet.state_dict()`` as ``<layer>.processor.to_q_mv.weight`` etc.: the key names of the released
adapter files. Cross-attention layers (``attn2``) get a weight-less processor that accepts the
same call options.

Call options (``cross_attention_kwargs`` of the UNet, names as upstream): ``num_views``,
``mv_scale``, ``ref_hidden_states`` (layer name -> ``[B_ref, S, C]``), ``ref_scale``,
``cache_hidden_states`` (a dict filled with each layer's input), ``use_mv``, ``use_ref``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from photo3d.errors import InputError


@dataclass(frozen=True)
class MVLayout:
    """Which views attend to each other.

    Attributes:
        rows: views in the row-attention group (``None`` = all views, any view count).
        cols: views in the column-attention group (empty = none).
        col_flip: views flipped left-right before column attention (and flipped back after).
        num_views: the view count the layout needs (``None`` = any).
    """

    rows: tuple[int, ...] | None = None
    cols: tuple[int, ...] = ()
    col_flip: tuple[int, ...] = ()
    num_views: int | None = None

    def check(self, num_views: int) -> None:
        """Raise :class:`InputError` when ``num_views`` does not fit the layout."""
        if self.num_views is not None and num_views != self.num_views:
            raise InputError(f"this multi-view layout needs {self.num_views} views, got {num_views}")


ROW_LAYOUT = MVLayout()
# Step1X-3D / MV-Adapter ig2mv: rows over front, right, back, left; columns over front (flipped),
# back, top, bottom.
STEP1X_LAYOUT = MVLayout(rows=(0, 1, 2, 3), cols=(0, 2, 4, 5), col_flip=(0,), num_views=6)
LAYOUTS = {"row": ROW_LAYOUT, "step1x3d": STEP1X_LAYOUT}


def multiview_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, layout: MVLayout,
                        num_views: int, heads: int) -> torch.Tensor:
    """Row (and column) attention across the views of each object.

    Args:
        q, k, v: ``[B * N, S, C]`` projections of ``N`` views per object (view-minor order),
            ``S = h * w`` tokens of a square ``h x w`` feature map.
        layout: the attention groups.
        num_views: ``N``.
        heads: attention heads (``C`` divisible by it).

    Returns:
        ``[B * N, S, C]``; each view gets the mean over the groups it belongs to (0 if none).
    """
    layout.check(num_views)
    bn, s, c = q.shape
    side = int(round(s**0.5))
    if side * side != s:
        raise InputError(f"multi-view attention needs square feature maps, got {s} tokens")
    if bn % num_views:
        raise InputError(f"batch {bn} is not a multiple of num_views={num_views}")
    b, d = bn // num_views, c // heads
    # [B, N, h, w, H, d]
    q, k, v = (t.reshape(b, num_views, side, side, heads, d) for t in (q, k, v))
    out = torch.zeros_like(q)
    count = torch.zeros(num_views, dtype=q.dtype, device=q.device)
    rows = list(range(num_views)) if layout.rows is None else list(layout.rows)
    if rows:
        out[:, rows] += _group_attention(q[:, rows], k[:, rows], v[:, rows], along="row")
        count[rows] += 1
    if layout.cols:
        cols = list(layout.cols)
        flip = torch.tensor([i in layout.col_flip for i in cols], device=q.device)
        qc, kc, vc = (_flip_views(t[:, cols], flip) for t in (q, k, v))
        out[:, cols] += _flip_views(_group_attention(qc, kc, vc, along="col"), flip)
        count[cols] += 1
    out = out / count.clamp_min(1).view(1, num_views, 1, 1, 1, 1)
    return out.reshape(bn, s, c)


def _group_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, along: str) -> torch.Tensor:
    """Attention among the tokens of one row (``"row"``) or column (``"col"``) of all ``n`` views.

    ``q, k, v``: ``[B, n, h, w, H, d]``; returns the same shape.
    """
    b, n, h, w, heads, d = q.shape
    if along == "row":  # sequences: (view, column) for each (object, row)
        fold = lambda t: t.permute(0, 2, 4, 1, 3, 5).reshape(b * h, heads, n * w, d)  # noqa: E731
        out = F.scaled_dot_product_attention(fold(q), fold(k), fold(v))
        return out.reshape(b, h, heads, n, w, d).permute(0, 3, 1, 4, 2, 5)
    fold = lambda t: t.permute(0, 3, 4, 1, 2, 5).reshape(b * w, heads, n * h, d)  # noqa: E731
    out = F.scaled_dot_product_attention(fold(q), fold(k), fold(v))
    return out.reshape(b, w, heads, n, h, d).permute(0, 3, 4, 1, 2, 5)


def _flip_views(t: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Flip the image columns (dim 3) of the views (dim 1) where ``flip`` is True."""
    if not bool(flip.any()):
        return t
    return torch.where(flip.view(1, -1, 1, 1, 1, 1), t.flip(3), t)


def reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int) -> torch.Tensor:
    """Attention from all views of an object to that object's reference tokens.

    Args:
        q: ``[B * N, S, C]`` queries of ``N`` views per object.
        k, v: ``[B, S_ref, C]`` reference keys and values, one set per object (computed once, not
            once per view).
        heads: attention heads.

    Returns:
        ``[B * N, S, C]``.
    """
    bn, s, c = q.shape
    b, d = k.shape[0], c // heads
    if bn % b:
        raise InputError(f"batch {bn} is not a multiple of the {b} reference images")
    qf = q.reshape(b, (bn // b) * s, heads, d).transpose(1, 2)  # the views of one object share K/V
    kf, vf = (t.reshape(b, -1, heads, d).transpose(1, 2) for t in (k, v))
    out = F.scaled_dot_product_attention(qf, kf, vf)
    return out.transpose(1, 2).reshape(bn, s, c)


def _branch(dim: int, inner: int, device, dtype) -> tuple[nn.Linear, nn.Linear, nn.Linear, nn.ModuleList]:
    lin = lambda i, o, bias: nn.Linear(i, o, bias=bias, device=device, dtype=dtype)  # noqa: E731
    return (lin(dim, inner, False), lin(dim, inner, False), lin(dim, inner, False),
            nn.ModuleList([lin(inner, dim, True), nn.Dropout(0.0)]))


class MVSelfAttnProcessor(nn.Module):
    """Self-attention processor with the decoupled multi-view and reference branches.

    Args:
        dim: the layer's query dimension; inner: its ``to_q`` output dimension.
        name: the processor's key in ``unet.attn_processors`` (keys the reference cache).
        layout: multi-view attention groups.
        num_views: views per object when a call does not say.
        device, dtype: where the new projections live (the layer's; ``meta`` works).
    """

    def __init__(self, dim: int, inner: int, name: str, layout: MVLayout = STEP1X_LAYOUT, num_views: int = 6,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.name, self.layout, self.num_views = name, layout, num_views
        self.to_q_mv, self.to_k_mv, self.to_v_mv, self.to_out_mv = _branch(dim, inner, device, dtype)
        self.to_q_ref, self.to_k_ref, self.to_v_ref, self.to_out_ref = _branch(dim, inner, device, dtype)

    def __call__(self, attn, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None,
                 mv_scale: float = 1.0, ref_hidden_states: dict | None = None, ref_scale: float = 1.0,
                 cache_hidden_states: dict | None = None, use_mv: bool = True, use_ref: bool = True,
                 num_views: int | None = None) -> torch.Tensor:
        if cache_hidden_states is not None:
            cache_hidden_states[self.name] = hidden_states
        use_ref = use_ref and ref_hidden_states is not None
        x, out, finish = _attention_core(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        heads = attn.heads
        if use_mv:
            ctx = x if encoder_hidden_states is None else encoder_hidden_states
            mv = multiview_attention(self.to_q_mv(x), self.to_k_mv(ctx), self.to_v_mv(ctx), self.layout,
                                     num_views or self.num_views, heads)
            out = out + self.to_out_mv[1](self.to_out_mv[0](mv.to(x.dtype))) * mv_scale
        if use_ref:
            ref = ref_hidden_states[self.name].to(x.dtype)
            r = reference_attention(self.to_q_ref(x), self.to_k_ref(ref), self.to_v_ref(ref), heads)
            out = out + self.to_out_ref[1](self.to_out_ref[0](r.to(x.dtype))) * ref_scale
        return finish(out)


class CrossAttnProcessor:
    """The standard attention for ``attn2`` layers; accepts and ignores the multi-view options."""

    def __call__(self, attn, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None,
                 mv_scale: float = 1.0, ref_hidden_states: dict | None = None, ref_scale: float = 1.0,
                 cache_hidden_states: dict | None = None, use_mv: bool = True, use_ref: bool = True,
                 num_views: int | None = None) -> torch.Tensor:
        _, out, finish = _attention_core(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        return finish(out)


def _attention_core(attn, hidden_states, encoder_hidden_states, attention_mask, temb):
    """The layer's own attention (diffusers' ``Attention`` semantics) up to its output projection.

    Returns:
        ``(x, out, finish)``: the normalised token input ``[B, S, C]`` the extra branches project,
        the projected attention output ``[B, S, C]``, and ``finish(out)`` applying the layer's
        reshaping, residual and output rescaling.
    """
    residual = hidden_states
    if attn.spatial_norm is not None:
        hidden_states = attn.spatial_norm(hidden_states, temb)
    ndim = hidden_states.ndim
    if ndim == 4:
        b, c, h, w = hidden_states.shape
        hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)
    batch, seq = (hidden_states if encoder_hidden_states is None else encoder_hidden_states).shape[:2]
    if attention_mask is not None:
        attention_mask = attn.prepare_attention_mask(attention_mask, seq, batch)
        attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
    if attn.group_norm is not None:
        hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
    ctx = hidden_states if encoder_hidden_states is None else encoder_hidden_states
    if encoder_hidden_states is not None and attn.norm_cross:
        ctx = attn.norm_encoder_hidden_states(encoder_hidden_states)
    q, k, v = attn.to_q(hidden_states), attn.to_k(ctx), attn.to_v(ctx)
    d = k.shape[-1] // attn.heads
    q, k, v = (t.view(batch, -1, attn.heads, d).transpose(1, 2) for t in (q, k, v))
    if attn.norm_q is not None:
        q = attn.norm_q(q)
    if attn.norm_k is not None:
        k = attn.norm_k(k)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask)
    out = out.transpose(1, 2).reshape(batch, -1, attn.heads * d).to(q.dtype)
    out = attn.to_out[1](attn.to_out[0](out))

    def finish(y: torch.Tensor) -> torch.Tensor:
        if ndim == 4:
            y = y.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            y = y + residual
        return y / attn.rescale_output_factor

    return hidden_states, out, finish


def install_mv_attention(unet, layout: MVLayout = STEP1X_LAYOUT, num_views: int = 6,
                         init_from_base: bool = True) -> dict[str, MVSelfAttnProcessor]:
    """Put :class:`MVSelfAttnProcessor` on every ``attn1`` and :class:`CrossAttnProcessor` elsewhere.

    Args:
        unet: a diffusers ``UNet2DConditionModel`` (any device, ``meta`` included).
        layout: multi-view attention groups.
        num_views: default views per object.
        init_from_base: copy ``to_q/k/v/out`` into both branches and zero their out projections
            (the adapter's initialisation before training); False leaves them random (weights
            are loaded next anyway).

    Returns:
        processor name -> the new self-attention processors.
    """
    procs, mv = {}, {}
    for name in unet.attn_processors:
        layer = unet.get_submodule(name.rsplit(".processor", 1)[0])
        if name.endswith("attn1.processor"):
            w = layer.to_q.weight
            mv[name] = procs[name] = MVSelfAttnProcessor(layer.to_q.in_features, layer.to_q.out_features, name,
                                                          layout, num_views, device=w.device, dtype=w.dtype)
        else:
            procs[name] = CrossAttnProcessor()
    unet.set_attn_processor(procs)
    if init_from_base:
        with torch.no_grad():
            for name, proc in mv.items():
                layer = unet.get_submodule(name.rsplit(".processor", 1)[0])
                for branch in ("mv", "ref"):
                    for p in ("q", "k", "v"):
                        getattr(proc, f"to_{p}_{branch}").weight.copy_(getattr(layer, f"to_{p}").weight)
                    out = getattr(proc, f"to_out_{branch}")[0]
                    out.weight.zero_()
                    out.bias.zero_()
    return mv


def mv_processors(unet) -> dict[str, MVSelfAttnProcessor]:
    """The installed :class:`MVSelfAttnProcessor` modules by name (empty if none)."""
    return {n: p for n, p in unet.attn_processors.items() if isinstance(p, MVSelfAttnProcessor)}
