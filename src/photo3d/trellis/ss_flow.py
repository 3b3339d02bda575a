"""Stage 1 velocity network: the sparse-structure flow DiT over a dense ``r^3`` latent grid.

``SparseStructureFlowModel`` in TRELLIS (``ss_flow_img_dit_L_16l8_fp16``: 16^3 x 8 latent, width
1024, 24 blocks, 16 heads). The latent grid is cut into ``p^3`` patches (p = 1 in the published
model), each patch is a token with a fixed sin/cos position embedding (buffer ``pos_emb``, stored
in the checkpoint), and the tokens pass through adaLN-modulated self + cross-attention blocks
conditioned on the timestep and the image tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from photo3d.trellis.blocks import ModulatedCrossBlock, TimestepEmbedder, convert_torso, position_embedding


def patchify(x: Tensor, p: int) -> Tensor:
    """``[B, C, D1, D2, D3]`` -> ``[B, C * p^3, D1/p, D2/p, D3/p]`` (channel = c, then in-patch offsets)."""
    b, c, d1, d2, d3 = x.shape
    x = x.reshape(b, c, d1 // p, p, d2 // p, p, d3 // p, p).permute(0, 1, 3, 5, 7, 2, 4, 6)
    return x.reshape(b, c * p ** 3, d1 // p, d2 // p, d3 // p)


def unpatchify(x: Tensor, p: int) -> Tensor:
    """Inverse of :func:`patchify`."""
    b, cp, n1, n2, n3 = x.shape
    x = x.reshape(b, cp // p ** 3, p, p, p, n1, n2, n3).permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, cp // p ** 3, n1 * p, n2 * p, n3 * p)


class SparseStructureFlowModel(nn.Module):
    """Velocity ``v(x_t, 1000 t, cond)`` of the occupancy latent (arguments as TRELLIS's config).

    Args:
        resolution: latent grid side r (16).
        in_channels, out_channels: latent channels (8).
        model_channels: width (1024).
        cond_channels: image-token width (1024).
        num_blocks: transformer blocks (24).
        num_heads / num_head_channels: heads (16), or width / head size.
        mlp_ratio: MLP expansion (4).
        patch_size: p (1).
        pe_mode: ``"ape"`` (the published model; RoPE is not implemented).
        use_fp16: half-precision torso (see :func:`~photo3d.trellis.blocks.convert_torso`).
        torso_dtype: overrides ``use_fp16`` (fp32, fp16 or bf16).
        share_mod, qk_rms_norm, qk_rms_norm_cross: as in TRELLIS.
    """

    def __init__(self, resolution: int, in_channels: int, model_channels: int, cond_channels: int,
                 out_channels: int, num_blocks: int, num_heads: int | None = None, num_head_channels: int = 64,
                 mlp_ratio: float = 4, patch_size: int = 2, pe_mode: str = "ape", use_fp16: bool = False,
                 use_checkpoint: bool = False, share_mod: bool = False, qk_rms_norm: bool = False,
                 qk_rms_norm_cross: bool = False, torso_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if pe_mode != "ape":
            raise NotImplementedError(f"pe_mode={pe_mode!r}: only 'ape' (the published TRELLIS models) is implemented")
        self.resolution, self.in_channels, self.out_channels = resolution, in_channels, out_channels
        self.patch_size, self.share_mod = patch_size, share_mod
        self.t_embedder = TimestepEmbedder(model_channels)
        if share_mod:
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(model_channels, 6 * model_channels))
        n = resolution // patch_size
        grid = torch.stack(torch.meshgrid(*[torch.arange(n)] * 3, indexing="ij"), dim=-1).reshape(-1, 3)
        self.register_buffer("pos_emb", position_embedding(grid, model_channels))
        self.input_layer = nn.Linear(in_channels * patch_size ** 3, model_channels)
        heads = num_heads or model_channels // num_head_channels
        self.blocks = nn.ModuleList([
            ModulatedCrossBlock(model_channels, cond_channels, heads, mlp_ratio, qk_rms_norm, qk_rms_norm_cross, share_mod)
            for _ in range(num_blocks)
        ])
        self.out_layer = nn.Linear(model_channels, out_channels * patch_size ** 3)
        for block in self.blocks:
            block.use_checkpoint = use_checkpoint
        self.dtype = torso_dtype or (torch.float16 if use_fp16 else torch.float32)
        if self.dtype != torch.float32:
            convert_torso(self.blocks, self.dtype)

    def forward(self, x: Tensor, t: Tensor, cond: Tensor) -> Tensor:
        """``x [B, C, r, r, r]``, ``t [B]`` (x1000), ``cond [B, L, C_ctx]`` -> velocity like ``x``."""
        want = (self.in_channels, *[self.resolution] * 3)
        if tuple(x.shape[1:]) != want:
            raise ValueError(f"sparse-structure flow input is {tuple(x.shape)}, want [B, {', '.join(map(str, want))}]")
        p, n = self.patch_size, self.resolution // self.patch_size
        h = patchify(x, p).flatten(2).transpose(1, 2)
        h = self.input_layer(h) + self.pos_emb[None]
        t_emb = self.t_embedder(t)
        if self.share_mod:
            t_emb = self.adaLN_modulation(t_emb)
        t_emb, h, cond = t_emb.type(self.dtype), h.type(self.dtype), cond.type(self.dtype)
        for block in self.blocks:
            h = block(h, t_emb, cond)
        h = F.layer_norm(h.type(x.dtype), h.shape[-1:])
        h = self.out_layer(h)
        return unpatchify(h.transpose(1, 2).reshape(h.shape[0], -1, n, n, n), p)
