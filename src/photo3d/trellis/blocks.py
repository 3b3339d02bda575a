"""Transformer building blocks shared by the four TRELLIS networks (dense tokens or sparse voxels).

Numerics follow TRELLIS: layer norms run in fp32 and cast back; with a half-precision *torso*
(``use_fp16`` in the published configs) only the weights of linear and convolution layers inside
the blocks are half, everything else (norm affines, RMS-norm gains, embedders, input and output
layers) stays fp32 -- :func:`convert_torso` does exactly that.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from photo3d.trellis.attention import MultiHeadAttention
from photo3d.trellis.conv import SpconvKernel
from photo3d.trellis.sparse import SparseTensor


class LayerNorm32(nn.LayerNorm):
    """LayerNorm computed in fp32, returned in the input dtype."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.float()).type(x.dtype)


class FeedForward(nn.Module):
    """``Linear -> GELU(tanh) -> Linear`` (keys ``mlp.0``, ``mlp.2``) on the last dimension."""

    def __init__(self, channels: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        hidden = int(channels * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, channels))

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x)


class TimestepEmbedder(nn.Module):
    """Sinusoidal embedding of the (x1000-scaled) flow time, then ``Linear -> SiLU -> Linear``."""

    def __init__(self, channels: int, frequency_size: int = 256) -> None:
        super().__init__()
        self.frequency_size = frequency_size
        self.mlp = nn.Sequential(nn.Linear(frequency_size, channels), nn.SiLU(), nn.Linear(channels, channels))

    def forward(self, t: Tensor) -> Tensor:
        """``t [B]`` -> ``[B, C]``."""
        half = self.frequency_size // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t.float()[:, None] * freqs[None]
        emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        if self.frequency_size % 2:
            emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
        return self.mlp(emb)


def position_embedding(positions: Tensor, channels: int) -> Tensor:
    """Absolute sin/cos embedding of integer positions.

    Args:
        positions: ``[N, D]`` grid coordinates.
        channels: output width C; each coordinate gets ``C // D // 2`` frequencies (sin block then
            cos block), the remainder is zero-padded.

    Returns:
        ``[N, C]`` float32.
    """
    n, d = positions.shape
    freq_dim = channels // d // 2
    freqs = 1.0 / (10000.0 ** (torch.arange(freq_dim, dtype=torch.float32, device=positions.device) / freq_dim))
    ang = positions.reshape(-1).float()[:, None] * freqs[None]
    emb = torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1).reshape(n, -1)
    return F.pad(emb, (0, channels - emb.shape[1]))


def convert_torso(module: nn.Module, dtype: torch.dtype) -> None:
    """Cast the weights of every linear / convolution layer under ``module`` to ``dtype``."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv3d, SpconvKernel)):
            for p in m.parameters(recurse=False):
                p.data = p.data.to(dtype)


def _feats(x: Tensor | SparseTensor) -> Tensor:
    return x.feats if isinstance(x, SparseTensor) else x


def _like(x: Tensor | SparseTensor, feats: Tensor) -> Tensor | SparseTensor:
    return x.replace(feats) if isinstance(x, SparseTensor) else feats


class ModulatedCrossBlock(nn.Module):
    """adaLN-modulated self-attention + cross-attention + MLP (the flow models' block).

    Works on dense tokens ``[B, L, C]`` (sparse-structure flow) and on a :class:`SparseTensor`
    (SLAT flow); ``mod [B, C]`` is the timestep embedding, ``context [B, L_ctx, C_ctx]`` the image
    tokens. Keys: ``norm2`` (affine, before cross-attention), ``self_attn``, ``cross_attn``, ``mlp``,
    ``adaLN_modulation.1``.
    """

    def __init__(self, channels: int, ctx_channels: int, num_heads: int, mlp_ratio: float = 4.0,
                 qk_rms_norm: bool = False, qk_rms_norm_cross: bool = False, share_mod: bool = False) -> None:
        super().__init__()
        self.use_checkpoint = False
        self.share_mod = share_mod
        self.norm1 = LayerNorm32(channels, elementwise_affine=False, eps=1e-6)
        self.norm2 = LayerNorm32(channels, elementwise_affine=True, eps=1e-6)
        self.norm3 = LayerNorm32(channels, elementwise_affine=False, eps=1e-6)
        self.self_attn = MultiHeadAttention(channels, num_heads, qk_rms_norm=qk_rms_norm)
        self.cross_attn = MultiHeadAttention(channels, num_heads, ctx_channels, kind="cross",
                                             qk_rms_norm=qk_rms_norm_cross)
        self.mlp = FeedForward(channels, mlp_ratio)
        if not share_mod:
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(channels, 6 * channels))

    def _forward(self, x, mod: Tensor, context: Tensor):
        chunks = (mod if self.share_mod else self.adaLN_modulation(mod)).chunk(6, dim=1)
        if isinstance(x, SparseTensor):
            shift_a, scale_a, gate_a, shift_m, scale_m, gate_m = (x.per_batch(c) for c in chunks)
        else:
            shift_a, scale_a, gate_a, shift_m, scale_m, gate_m = (c.unsqueeze(1) for c in chunks)
        f = _feats(x)
        h = self.norm1(f) * (1 + scale_a) + shift_a
        f = f + _feats(self.self_attn(_like(x, h))) * gate_a
        f = f + _feats(self.cross_attn(_like(x, self.norm2(f)), context))
        h = self.norm3(f) * (1 + scale_m) + shift_m
        f = f + self.mlp(h) * gate_m
        return _like(x, f)

    def forward(self, x, mod: Tensor, context: Tensor):
        if self.use_checkpoint and torch.is_grad_enabled():
            return checkpoint(self._forward, x, mod, context, use_reentrant=False)
        return self._forward(x, mod, context)


class SparseTransformerBlock(nn.Module):
    """Pre-norm self-attention + MLP on voxels (the Gaussian decoder's block; no affine norms)."""

    def __init__(self, channels: int, num_heads: int, mlp_ratio: float = 4.0, attn_mode: str = "full",
                 window_size: int | None = None, shift_window: int = 0, qk_rms_norm: bool = False) -> None:
        super().__init__()
        self.use_checkpoint = False
        self.norm1 = LayerNorm32(channels, elementwise_affine=False, eps=1e-6)
        self.norm2 = LayerNorm32(channels, elementwise_affine=False, eps=1e-6)
        self.attn = MultiHeadAttention(channels, num_heads, attn_mode=attn_mode, window_size=window_size,
                                       shift_window=shift_window, qk_rms_norm=qk_rms_norm)
        self.mlp = FeedForward(channels, mlp_ratio)

    def _forward(self, x: SparseTensor) -> SparseTensor:
        f = x.feats + self.attn(x.replace(self.norm1(x.feats))).feats
        return x.replace(f + self.mlp(self.norm2(f)))

    def forward(self, x: SparseTensor) -> SparseTensor:
        if self.use_checkpoint and torch.is_grad_enabled():
            return checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)
