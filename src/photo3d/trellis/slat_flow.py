"""Stage 2 velocity network: the SLAT flow transformer over sparse voxels.

``SLatFlowModel`` in TRELLIS (``slat_flow_img_dit_L_64l8p2_fp16``: 8-channel latents on the
occupied voxels of 64^3, width 1024, 24 blocks, patch 2). Input residual blocks with submanifold
convolutions run at 64^3 and the last one average-pools to 32^3 ("patch 2"); full sparse
attention blocks run at 32^3 with a sin/cos position embedding; output residual blocks upsample
back with U-Net skips. Every residual block is modulated by the timestep (scale, shift).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from photo3d.trellis.blocks import LayerNorm32, ModulatedCrossBlock, TimestepEmbedder, convert_torso, position_embedding
from photo3d.trellis.conv import SparseConv3d
from photo3d.trellis.sparse import SparseTensor


def sparse_downsample(x: SparseTensor, factor: int = 2) -> SparseTensor:
    """Pool the voxels of every ``factor^3`` cell; the map back is kept for :func:`sparse_upsample`.

    The pooled feature is ``sum / (n + 1)`` over the cell's ``n`` voxels, not the plain mean:
    TRELLIS's ``scatter_reduce(zeros, ..., "mean")`` counts the zero it starts from, and its
    weights were trained with that. The coarse voxels come out sorted by ``(batch, x, y, z)``.
    """
    c = x.coords.long()
    coarse = torch.cat([c[:, :1], c[:, 1:] // factor], 1)
    size = coarse[:, 1:].max(0).values + 1
    code = ((coarse[:, 0] * size[0] + coarse[:, 1]) * size[1] + coarse[:, 2]) * size[2] + coarse[:, 3]
    code, idx = torch.unique(code, return_inverse=True)
    total = torch.zeros(len(code), *x.feats.shape[1:], dtype=x.feats.dtype, device=x.device).index_add(0, idx, x.feats)
    count = torch.bincount(idx, minlength=len(code)).to(x.feats.dtype)
    feats = total / (count + 1).view(-1, *[1] * (x.feats.dim() - 1))
    z = code % size[2]
    y = (code // size[2]) % size[1]
    xx = (code // (size[2] * size[1])) % size[0]
    b = code // (size[2] * size[1] * size[0])
    out = SparseTensor(torch.stack([b, xx, y, z], 1).to(torch.int32), feats, x.batch_size)
    out.cache[f"upsample_{factor}"] = (x.coords, x.cache, idx)
    return out


def sparse_upsample(x: SparseTensor, factor: int = 2) -> SparseTensor:
    """Nearest-neighbour inverse of the :func:`sparse_downsample` that produced ``x``'s voxels."""
    key = f"upsample_{factor}"
    if key not in x.cache:
        raise ValueError("sparse_upsample needs a tensor made by sparse_downsample (its voxel map is missing)")
    coords, cache, idx = x.cache[key]
    return SparseTensor(coords, x.feats[idx], x.batch_size, cache)


class SparseResBlock3d(nn.Module):
    """Timestep-modulated residual block of two submanifold convolutions (optionally down/up x2)."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int | None = None,
                 downsample: bool = False, upsample: bool = False) -> None:
        super().__init__()
        out_channels = out_channels or channels
        self.downsample, self.upsample = downsample, upsample
        self.norm1 = LayerNorm32(channels, elementwise_affine=True, eps=1e-6)
        self.norm2 = LayerNorm32(out_channels, elementwise_affine=False, eps=1e-6)
        self.conv1 = SparseConv3d(channels, out_channels, 3)
        self.conv2 = SparseConv3d(out_channels, out_channels, 3)
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, 2 * out_channels))
        self.skip_connection = nn.Linear(channels, out_channels) if channels != out_channels else nn.Identity()

    def forward(self, x: SparseTensor, emb: Tensor) -> SparseTensor:
        scale, shift = self.emb_layers(emb).type(x.dtype).chunk(2, dim=1)
        if self.downsample:
            x = sparse_downsample(x, 2)
        elif self.upsample:
            x = sparse_upsample(x, 2)
        h = self.conv1(x.replace(F.silu(self.norm1(x.feats))))
        h = self.norm2(h.feats) * (1 + x.per_batch(scale)) + x.per_batch(shift)
        h = self.conv2(x.replace(F.silu(h)))
        return h.replace(h.feats + self.skip_connection(x.feats))


class SLatFlowModel(nn.Module):
    """Velocity ``v(x_t, 1000 t, cond)`` of the structured latent (arguments as TRELLIS's config).

    Args:
        resolution: voxel grid side (64).
        in_channels, out_channels: latent channels (8).
        model_channels: transformer width (1024).
        cond_channels: image-token width (1024).
        num_blocks: transformer blocks (24).
        num_heads / num_head_channels: heads (16).
        mlp_ratio: 4.
        patch_size: 2 (one x2 pooling in the input blocks).
        num_io_res_blocks: residual blocks per I/O stage (2).
        io_block_channels: widths of the I/O stages ([128]).
        pe_mode: ``"ape"``.
        use_fp16 / torso_dtype: half-precision torso (I/O blocks and transformer blocks).
        use_skip_connection: U-Net skips between input and output blocks.
        share_mod, qk_rms_norm, qk_rms_norm_cross: as in TRELLIS.
    """

    def __init__(self, resolution: int, in_channels: int, model_channels: int, cond_channels: int,
                 out_channels: int, num_blocks: int, num_heads: int | None = None, num_head_channels: int = 64,
                 mlp_ratio: float = 4, patch_size: int = 2, num_io_res_blocks: int = 2,
                 io_block_channels: list[int] | None = None, pe_mode: str = "ape", use_fp16: bool = False,
                 use_checkpoint: bool = False, use_skip_connection: bool = True, share_mod: bool = False,
                 qk_rms_norm: bool = False, qk_rms_norm_cross: bool = False,
                 torso_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if pe_mode != "ape":
            raise NotImplementedError(f"pe_mode={pe_mode!r}: only 'ape' (the published TRELLIS models) is implemented")
        if io_block_channels is not None and 2 ** len(io_block_channels) != patch_size:
            raise ValueError(f"patch_size {patch_size} needs log2(patch_size) I/O stages, got {io_block_channels}")
        self.resolution, self.in_channels, self.out_channels = resolution, in_channels, out_channels
        self.model_channels, self.share_mod, self.use_skip_connection = model_channels, share_mod, use_skip_connection
        self.t_embedder = TimestepEmbedder(model_channels)
        if share_mod:
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(model_channels, 6 * model_channels))
        io = list(io_block_channels or [])
        self.input_layer = nn.Linear(in_channels, io[0] if io else model_channels)
        self.input_blocks = nn.ModuleList()
        for chs, next_chs in zip(io, io[1:] + [model_channels]):
            self.input_blocks.extend(SparseResBlock3d(chs, model_channels, chs) for _ in range(num_io_res_blocks - 1))
            self.input_blocks.append(SparseResBlock3d(chs, model_channels, next_chs, downsample=True))
        heads = num_heads or model_channels // num_head_channels
        self.blocks = nn.ModuleList([
            ModulatedCrossBlock(model_channels, cond_channels, heads, mlp_ratio, qk_rms_norm, qk_rms_norm_cross, share_mod)
            for _ in range(num_blocks)
        ])
        self.out_blocks = nn.ModuleList()
        skip = 2 if use_skip_connection else 1
        for chs, prev_chs in zip(reversed(io), [model_channels] + list(reversed(io[1:]))):
            self.out_blocks.append(SparseResBlock3d(prev_chs * skip, model_channels, chs, upsample=True))
            self.out_blocks.extend(SparseResBlock3d(chs * skip, model_channels, chs) for _ in range(num_io_res_blocks - 1))
        self.out_layer = nn.Linear(io[0] if io else model_channels, out_channels)
        for block in self.blocks:
            block.use_checkpoint = use_checkpoint
        self.dtype = torso_dtype or (torch.float16 if use_fp16 else torch.float32)
        if self.dtype != torch.float32:
            for part in (self.input_blocks, self.blocks, self.out_blocks):
                convert_torso(part, self.dtype)

    def forward(self, x: SparseTensor, t: Tensor, cond: Tensor) -> SparseTensor:
        """``x`` latents on 64^3 voxels, ``t [B]`` (x1000), ``cond [B, L, C_ctx]`` -> velocity on ``x``'s voxels."""
        h = x.replace(self.input_layer(x.feats).type(self.dtype))
        t_emb = self.t_embedder(t)
        if self.share_mod:
            t_emb = self.adaLN_modulation(t_emb)
        t_emb, cond = t_emb.type(self.dtype), cond.type(self.dtype)
        skips = []
        for block in self.input_blocks:
            h = block(h, t_emb)
            skips.append(h.feats)
        h = h.replace(h.feats + position_embedding(h.coords[:, 1:], self.model_channels).type(self.dtype))
        for block in self.blocks:
            h = block(h, t_emb, cond)
        for block, skip in zip(self.out_blocks, reversed(skips)):
            h = block(h.replace(torch.cat([h.feats, skip], dim=1)) if self.use_skip_connection else h, t_emb)
        h = F.layer_norm(h.feats, h.feats.shape[-1:])
        return x.replace(self.out_layer(h.type(x.dtype)))
