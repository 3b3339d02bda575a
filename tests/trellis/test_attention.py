"""Attention: per-segment SDPA without padding equals a naive loop; windows follow TRELLIS's Swin scheme."""

from __future__ import annotations

import math

import torch

from photo3d.trellis.attention import MultiHeadAttention, MultiHeadRMSNorm, segment_attention, window_partition
from photo3d.trellis.sparse import SparseTensor


def _naive(q, k, v):
    w = torch.einsum("lhc,shc->hls", q, k) / math.sqrt(q.shape[-1])
    return torch.einsum("hls,shc->lhc", w.softmax(-1), v)


def test_segment_attention_equals_a_loop_over_segments():
    gen = torch.Generator().manual_seed(0)
    q_lens, kv_lens = [3, 5, 3, 1, 5, 3], [4, 2, 4, 7, 2, 4]  # repeated pairs are batched together
    q = torch.randn(sum(q_lens), 2, 8, generator=gen, dtype=torch.float64, requires_grad=True)
    k = torch.randn(sum(kv_lens), 2, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(sum(kv_lens), 2, 4, generator=gen, dtype=torch.float64)
    out = segment_attention(q, k, v, q_lens, kv_lens)
    parts, qs, ks = [], 0, 0
    for lq, lk in zip(q_lens, kv_lens):
        parts.append(_naive(q[qs:qs + lq], k[ks:ks + lk], v[ks:ks + lk]))
        qs, ks = qs + lq, ks + lk
    torch.testing.assert_close(out, torch.cat(parts), atol=1e-12, rtol=0)
    out.sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()


def _random_voxels(n_batch: int, side: int, density: float, seed: int):
    gen = torch.Generator().manual_seed(seed)
    coords = torch.argwhere(torch.rand(n_batch, side, side, side, generator=gen) < density).int()
    return coords, gen


def test_windowed_self_attention_stays_inside_shifted_windows():
    coords, gen = _random_voxels(2, 12, 0.3, seed=1)
    x = SparseTensor(coords, torch.randn(len(coords), 16, generator=gen, dtype=torch.float64))
    for shift in (0, 2):
        attn = MultiHeadAttention(16, 2, attn_mode="windowed", window_size=4, shift_window=shift).double()
        out = attn(x).feats
        # brute force: group voxels by (batch, floor((xyz + shift) / 4)) with plain Python
        groups: dict[tuple, list[int]] = {}
        for i, (b, *xyz) in enumerate(coords.tolist()):
            groups.setdefault((b, *[(c + shift) // 4 for c in xyz]), []).append(i)
        q, k, v = attn.to_qkv(x.feats).unflatten(-1, (3, 2, -1)).unbind(-3)
        ref = torch.empty(len(coords), 2, 8, dtype=torch.float64)
        for rows in groups.values():
            ref[rows] = _naive(q[rows], k[rows], v[rows])
        torch.testing.assert_close(out, attn.to_out(ref.flatten(-2)), atol=1e-12, rtol=0)
        order, inverse, lens = window_partition(x, 4, shift)
        assert sorted(lens) == sorted(len(r) for r in groups.values())
        assert torch.equal(order[inverse], torch.arange(len(coords)))


def test_sparse_full_attention_equals_dense_attention_per_sample():
    coords, gen = _random_voxels(2, 6, 0.3, seed=2)
    feats = torch.randn(len(coords), 16, generator=gen, dtype=torch.float64)
    ctx = torch.randn(2, 5, 12, generator=gen, dtype=torch.float64)
    x = SparseTensor(coords, feats)
    self_attn = MultiHeadAttention(16, 4, qk_rms_norm=True).double()
    cross = MultiHeadAttention(16, 4, ctx_channels=12, kind="cross").double()
    sparse_self, sparse_cross = self_attn(x).feats, cross(x, ctx).feats
    for b in range(2):
        rows = coords[:, 0] == b
        tokens = feats[rows][None]
        torch.testing.assert_close(sparse_self[rows], self_attn(tokens)[0], atol=1e-12, rtol=0)
        torch.testing.assert_close(sparse_cross[rows], cross(tokens, ctx[b:b + 1])[0], atol=1e-12, rtol=0)


def test_rms_norm_and_parameter_names():
    norm = MultiHeadRMSNorm(8, 2)
    x = torch.randn(5, 2, 8).half()
    y = norm(x)
    assert y.dtype == torch.float16
    torch.testing.assert_close(y.float().norm(dim=-1), torch.full((5, 2), math.sqrt(8)), atol=2e-2, rtol=0)
    names = set(MultiHeadAttention(16, 2, qk_rms_norm=True).state_dict())
    assert names == {"to_qkv.weight", "to_qkv.bias", "q_rms_norm.gamma", "k_rms_norm.gamma", "to_out.weight", "to_out.bias"}
    cross = set(MultiHeadAttention(16, 2, ctx_channels=8, kind="cross").state_dict())
    assert cross == {"to_q.weight", "to_q.bias", "to_kv.weight", "to_kv.bias", "to_out.weight", "to_out.bias"}
