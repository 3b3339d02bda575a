"""Multi-head attention over dense tokens and sparse voxels, all through ``scaled_dot_product_attention``.

Sparse attention never pads: voxels are grouped into contiguous *segments* (one per batch
element for full attention, one per window for shifted-window attention), segments of equal
length are stacked into one batched SDPA call, and the results are scattered back. Window
partitions follow TRELLIS's Swin scheme: voxel ``(b, x, y, z)`` belongs to window
``(b, (x + s) // w, (y + s) // w, (z + s) // w)`` for window size ``w`` and shift ``s``.

Parameter names match TRELLIS checkpoints: ``to_qkv`` (self) or ``to_q`` + ``to_kv`` (cross),
``q_rms_norm.gamma`` / ``k_rms_norm.gamma`` ``[heads, head_dim]``, ``to_out``.
"""

from __future__ import annotations

from collections import defaultdict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from photo3d.trellis.sparse import SparseTensor


def segment_attention(q: Tensor, k: Tensor, v: Tensor, q_lens: list[int], kv_lens: list[int]) -> Tensor:
    """Softmax attention of each query segment to its key/value segment.

    Args:
        q: ``[T_q, H, D]`` queries, segment after segment.
        k: ``[T_kv, H, D]`` keys; v: ``[T_kv, H, D_v]`` values, segment after segment.
        q_lens: query rows per segment (sums to ``T_q``).
        kv_lens: key rows per segment (same number of segments).

    Returns:
        ``[T_q, H, D_v]``.
    """
    if len(q_lens) == 1:
        return F.scaled_dot_product_attention(q.transpose(0, 1)[None], k.transpose(0, 1)[None],
                                              v.transpose(0, 1)[None])[0].transpose(0, 1)
    dev = q.device
    q_start = torch.tensor([0, *q_lens[:-1]], device=dev).cumsum(0)
    kv_start = torch.tensor([0, *kv_lens[:-1]], device=dev).cumsum(0)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (lq, lk) in enumerate(zip(q_lens, kv_lens)):
        if lq:
            groups[(lq, lk)].append(i)
    rows, outs = [], []
    for (lq, lk), segs in groups.items():
        seg = torch.tensor(segs, device=dev)
        qi = q_start[seg, None] + torch.arange(lq, device=dev)  # [G, lq]
        if lk == 0:  # nothing to attend to: zero output (no such segment occurs in TRELLIS)
            outs.append(q.new_zeros(qi.numel(), q.shape[1], v.shape[2]))
        else:
            ki = kv_start[seg, None] + torch.arange(lk, device=dev)  # [G, lk]
            o = F.scaled_dot_product_attention(q[qi].transpose(1, 2), k[ki].transpose(1, 2), v[ki].transpose(1, 2))
            outs.append(o.transpose(1, 2).reshape(-1, q.shape[1], v.shape[2]))
        rows.append(qi.reshape(-1))
    order = torch.cat(rows)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order), device=dev)
    return torch.cat(outs)[inverse]


def window_partition(x: SparseTensor, window_size: int, shift: int) -> tuple[Tensor, Tensor, list[int]]:
    """Shifted-window grouping of ``x``'s voxels (cached on ``x``).

    Returns:
        ``(order, inverse, lengths)``: ``order`` puts the voxels of each window together,
        ``inverse`` undoes it, ``lengths`` are the window sizes in that order.
    """
    key_name = f"window_{window_size}_{shift}"
    if key_name not in x.cache:
        c = x.coords.long()
        w = (c[:, 1:] + shift) // window_size
        n = w.max(0).values + 1 if len(c) else torch.ones(3, dtype=torch.long, device=c.device)
        key = ((c[:, 0] * n[0] + w[:, 0]) * n[1] + w[:, 1]) * n[2] + w[:, 2]
        order = torch.argsort(key)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)
        _, counts = torch.unique_consecutive(key[order], return_counts=True)
        x.cache[key_name] = (order, inverse, counts.tolist())
    return x.cache[key_name]


class MultiHeadRMSNorm(nn.Module):
    """Per-head RMS normalisation of queries/keys: ``normalize(x) * gamma * sqrt(head_dim)`` in fp32."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.scale = dim ** 0.5
        self.gamma = nn.Parameter(torch.ones(heads, dim))

    def forward(self, x: Tensor) -> Tensor:
        return (F.normalize(x.float(), dim=-1) * self.gamma * self.scale).to(x.dtype)


class MultiHeadAttention(nn.Module):
    """Self- or cross-attention over dense ``[B, L, C]`` tokens or a :class:`SparseTensor`.

    Args:
        channels: model width C.
        num_heads: heads H (head_dim = C / H).
        ctx_channels: context width of cross-attention (default C).
        kind: ``"self"`` or ``"cross"`` (the context is always dense ``[B, L_ctx, C_ctx]``).
        attn_mode: sparse self-attention: ``"full"`` (per sample) or ``"windowed"``.
        window_size: window side for ``"windowed"``.
        shift_window: window shift for ``"windowed"``.
        qkv_bias: biases on the input projections.
        qk_rms_norm: RMS-normalise queries and keys per head.
    """

    def __init__(self, channels: int, num_heads: int, ctx_channels: int | None = None, kind: str = "self",
                 attn_mode: str = "full", window_size: int | None = None, shift_window: int = 0,
                 qkv_bias: bool = True, qk_rms_norm: bool = False) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"attention width {channels} is not divisible by {num_heads} heads")
        if kind not in ("self", "cross") or attn_mode not in ("full", "windowed"):
            raise ValueError(f"unsupported attention kind={kind!r} attn_mode={attn_mode!r}")
        self.num_heads, self.kind, self.attn_mode = num_heads, kind, attn_mode
        self.window_size, self.shift_window = window_size, int(shift_window or 0)
        self.qk_rms_norm = qk_rms_norm
        head_dim = channels // num_heads
        if kind == "self":
            self.to_qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        else:
            self.to_q = nn.Linear(channels, channels, bias=qkv_bias)
            self.to_kv = nn.Linear(ctx_channels or channels, 2 * channels, bias=qkv_bias)
        if qk_rms_norm:
            self.q_rms_norm = MultiHeadRMSNorm(head_dim, num_heads)
            self.k_rms_norm = MultiHeadRMSNorm(head_dim, num_heads)
        self.to_out = nn.Linear(channels, channels)

    def _qk_norm(self, q: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        if self.qk_rms_norm:
            return self.q_rms_norm(q), self.k_rms_norm(k)
        return q, k

    def forward(self, x: Tensor | SparseTensor, context: Tensor | None = None) -> Tensor | SparseTensor:
        """Dense ``[B, L, C]`` -> ``[B, L, C]``; sparse ``feats [N, C]`` -> same voxels, ``[N, C]``."""
        sparse = isinstance(x, SparseTensor)
        h = x.feats if sparse else x
        heads = self.num_heads
        if self.kind == "self":
            q, k, v = self.to_qkv(h).unflatten(-1, (3, heads, -1)).unbind(-3)
        else:
            q = self.to_q(h).unflatten(-1, (heads, -1))
            k, v = self.to_kv(context).unflatten(-1, (2, heads, -1)).unbind(-3)
        q, k = self._qk_norm(q, k)
        if not sparse:  # [B, L, H, D]
            out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
            return self.to_out(out.transpose(1, 2).flatten(-2))
        if self.kind == "cross":  # per sample: its voxels attend to its context tokens
            b, lc = context.shape[:2]
            out = segment_attention(q, k.reshape(b * lc, heads, -1), v.reshape(b * lc, heads, -1),
                                    x.seq_lens, [lc] * b)
        elif self.attn_mode == "full":
            out = segment_attention(q, k, v, x.seq_lens, x.seq_lens)
        else:
            order, inverse, lens = window_partition(x, self.window_size, self.shift_window)
            out = segment_attention(q[order], k[order], v[order], lens, lens)[inverse]
        return x.replace(self.to_out(out.flatten(-2)))
