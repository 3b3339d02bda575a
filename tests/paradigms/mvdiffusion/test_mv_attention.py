"""Decoupled multi-view / reference attention: maths against naive loops, installation on a UNet."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from photo3d.errors import InputError
from photo3d.paradigms.mvdiffusion.attention import (
    ROW_LAYOUT, STEP1X_LAYOUT, CrossAttnProcessor, MVLayout, MVSelfAttnProcessor, install_mv_attention,
    multiview_attention, reference_attention,
)


def _attend(q, k, v):
    """Single-head softmax attention over token lists ``[L, d]``."""
    return torch.softmax(q @ k.T / q.shape[-1] ** 0.5, dim=-1) @ v


def _naive_rows(q, k, v, views, n, side):
    """Token (view i, row y, col x) attends to row y of every view in ``views``."""
    out = {}
    for b in range(q.shape[0] // n):
        for y in range(side):
            keys = [(j, y, x) for j in views for x in range(side)]
            kk = torch.stack([k[b * n + j, yy * side + xx] for j, yy, xx in keys])
            vv = torch.stack([v[b * n + j, yy * side + xx] for j, yy, xx in keys])
            for i in views:
                for x in range(side):
                    out[(b, i, y, x)] = _attend(q[b * n + i, y * side + x][None], kk, vv)[0]
    return out


def _naive_cols(q, k, v, views, flip, n, side):
    """Columns of ``views``; flipped views read their column x at side - 1 - x."""
    col = lambda j, x: side - 1 - x if j in flip else x  # noqa: E731
    out = {}
    for b in range(q.shape[0] // n):
        for x in range(side):
            keys = [(j, yy, col(j, x)) for j in views for yy in range(side)]
            kk = torch.stack([k[b * n + j, yy * side + xx] for j, yy, xx in keys])
            vv = torch.stack([v[b * n + j, yy * side + xx] for j, yy, xx in keys])
            for i in views:
                for y in range(side):
                    out[(b, i, y, col(i, x))] = _attend(q[b * n + i, y * side + col(i, x)][None], kk, vv)[0]
    return out


def test_row_layout_matches_per_row_attention_for_any_view_count():
    torch.manual_seed(0)
    for n in (2, 3, 5):
        side, c = 3, 4
        q, k, v = (torch.randn(2 * n, side * side, c, dtype=torch.float64) for _ in range(3))
        got = multiview_attention(q, k, v, ROW_LAYOUT, n, heads=1)
        ref = _naive_rows(q, k, v, list(range(n)), n, side)
        for (b, i, y, x), val in ref.items():
            assert torch.allclose(got[b * n + i, y * side + x], val, atol=1e-10)


def test_step1x_layout_averages_rows_and_flipped_columns():
    torch.manual_seed(1)
    n, side, c = 6, 3, 4
    q, k, v = (torch.randn(n, side * side, c, dtype=torch.float64) for _ in range(3))
    got = multiview_attention(q, k, v, STEP1X_LAYOUT, n, heads=1)
    rows = _naive_rows(q, k, v, [0, 1, 2, 3], n, side)
    cols = _naive_cols(q, k, v, [0, 2, 4, 5], {0}, n, side)
    for i in range(n):
        for y in range(side):
            for x in range(side):
                key = (0, i, y, x)
                parts = [d[key] for d in (rows, cols) if key in d]
                assert torch.allclose(got[i, y * side + x], sum(parts) / len(parts), atol=1e-10), (i, y, x)
    with pytest.raises(InputError, match="needs 6 views"):
        multiview_attention(q[:4], k[:4], v[:4], STEP1X_LAYOUT, 4, heads=1)
    with pytest.raises(InputError, match="square"):
        multiview_attention(q[:, :8], k[:, :8], v[:, :8], ROW_LAYOUT, 6, heads=1)


def test_heads_split_the_channels():
    torch.manual_seed(2)
    q, k, v = (torch.randn(4, 4, 8, dtype=torch.float64) for _ in range(3))
    got = multiview_attention(q, k, v, ROW_LAYOUT, 4, heads=2)
    for h in range(2):
        sl = slice(4 * h, 4 * h + 4)
        one = multiview_attention(q[..., sl], k[..., sl], v[..., sl], ROW_LAYOUT, 4, heads=1)
        assert torch.allclose(got[..., sl], one, atol=1e-12)


def test_reference_attention_equals_per_view_attention_to_repeated_keys():
    torch.manual_seed(3)
    n, s, c, heads = 3, 5, 8, 2
    q = torch.randn(2 * n, s, c, dtype=torch.float64)
    k, v = torch.randn(2, 7, c, dtype=torch.float64), torch.randn(2, 7, c, dtype=torch.float64)
    got = reference_attention(q, k, v, heads)
    kr, vr = k.repeat_interleave(n, 0), v.repeat_interleave(n, 0)
    split = lambda t: t.view(t.shape[0], t.shape[1], heads, c // heads).transpose(1, 2)  # noqa: E731
    want = F.scaled_dot_product_attention(split(q), split(kr), split(vr)).transpose(1, 2).reshape(2 * n, s, c)
    assert torch.allclose(got, want, atol=1e-10)


def _unet():
    import diffusers

    torch.manual_seed(0)
    return diffusers.UNet2DConditionModel(
        sample_size=8, layers_per_block=1, block_out_channels=(16, 32), norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), cross_attention_dim=16, use_linear_projection=True)


def _run(unet, x, t, ctx, **kw):
    return unet(x, t, encoder_hidden_states=ctx, cross_attention_kwargs=kw or None, return_dict=False)[0]


def test_fresh_adapter_leaves_the_unet_unchanged_and_has_the_released_key_names():
    unet = _unet()
    x, ctx = torch.randn(6, 4, 8, 8), torch.randn(6, 7, 16)
    base = _run(unet, x, torch.tensor(500), ctx)
    procs = install_mv_attention(unet, STEP1X_LAYOUT, 6)
    assert procs and all(name.endswith("attn1.processor") for name in procs)
    assert all(isinstance(p, CrossAttnProcessor) for n, p in unet.attn_processors.items() if n.endswith("attn2.processor"))
    keys = [k for k in unet.state_dict() if "_mv" in k or "_ref" in k]
    layer = next(iter(procs)).rsplit(".processor", 1)[0]
    expected = {f"{layer}.processor.to_{p}_{b}.weight" for p in "qkv" for b in ("mv", "ref")}
    expected |= {f"{layer}.processor.to_out_{b}.0.{w}" for b in ("mv", "ref") for w in ("weight", "bias")}
    assert expected <= set(keys) and len(keys) == 10 * len(procs)
    cache = {}
    ref_states = {}
    _run(unet, x[:1], torch.tensor(0), ctx[:1], cache_hidden_states=ref_states, use_mv=False, use_ref=False)
    assert set(ref_states) == set(procs)
    out = _run(unet, x, torch.tensor(500), ctx, num_views=6, ref_hidden_states=ref_states, cache_hidden_states=cache)
    assert torch.allclose(out, base, atol=1e-5)  # zero out-projections: identical to the base model
    proc = procs[layer + ".processor"]
    assert torch.equal(proc.to_q_mv.weight, unet.get_submodule(layer).to_q.weight)


def test_trained_branches_change_the_output_and_respect_their_switches():
    unet = _unet()
    install_mv_attention(unet, ROW_LAYOUT, 3)
    with torch.no_grad():
        for p in unet.attn_processors.values():
            if isinstance(p, MVSelfAttnProcessor):
                p.to_out_mv[0].weight.normal_(0, 0.2)
                p.to_out_ref[0].weight.normal_(0, 0.2)
    x, ctx, t = torch.randn(3, 4, 8, 8), torch.randn(3, 7, 16), torch.tensor(300)
    ref_states = {}
    _run(unet, x[:1], torch.tensor(0), ctx[:1], cache_hidden_states=ref_states, use_mv=False, use_ref=False)
    plain = _run(unet, x, t, ctx, use_mv=False, use_ref=False)
    mv = _run(unet, x, t, ctx, num_views=3)
    both = _run(unet, x, t, ctx, num_views=3, ref_hidden_states=ref_states)
    assert not torch.allclose(plain, mv, atol=1e-4) and not torch.allclose(mv, both, atol=1e-4)
    # views interact only through the multi-view branch: permuting views permutes the output
    perm = torch.tensor([2, 0, 1])
    assert torch.allclose(_run(unet, x[perm], t, ctx[perm], num_views=3), mv[perm], atol=1e-5)
    assert torch.allclose(_run(unet, x[perm], t, ctx[perm], use_mv=False, use_ref=False), plain[perm], atol=1e-5)
    single = _run(unet, x[:1], t, ctx[:1], use_mv=False, use_ref=False)
    assert torch.allclose(single, plain[:1], atol=1e-5)
