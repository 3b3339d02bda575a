"""Stage 1 decoder: the sparse-structure VAE decoder (dense 3D convolutions, no custom ops).

``SparseStructureDecoder`` in TRELLIS (``ss_dec_conv3d_16l8_fp16``): an ``8 x 16^3`` latent ->
``1 x 64^3`` occupancy logits through residual blocks with channel-wise LayerNorm and two
``Conv3d + pixel_shuffle_3d`` upsamplings (channels 512 -> 128 -> 32). Occupied voxels are the
cells with logit > 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from photo3d.trellis.blocks import LayerNorm32, convert_torso


class ChannelLayerNorm32(LayerNorm32):
    """LayerNorm over the channel axis of ``[B, C, D, H, W]`` (fp32)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1).contiguous()


def pixel_shuffle_3d(x: Tensor, factor: int) -> Tensor:
    """``[B, C f^3, D, H, W]`` -> ``[B, C, D f, H f, W f]``."""
    b, c, d, h, w = x.shape
    c_out = c // factor ** 3
    x = x.reshape(b, c_out, factor, factor, factor, d, h, w).permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, c_out, d * factor, h * factor, w * factor)


class ResBlock3d(nn.Module):
    """``norm -> SiLU -> conv -> norm -> SiLU -> conv`` plus a (1x1x1 when widening) skip."""

    def __init__(self, channels: int, out_channels: int | None = None, norm_type: str = "layer") -> None:
        super().__init__()
        if norm_type != "layer":
            raise NotImplementedError(f"norm_type={norm_type!r}: the published decoder uses 'layer'")
        out_channels = out_channels or channels
        self.norm1 = ChannelLayerNorm32(channels)
        self.norm2 = ChannelLayerNorm32(out_channels)
        self.conv1 = nn.Conv3d(channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv3d(out_channels, out_channels, 3, padding=1)
        self.skip_connection = nn.Conv3d(channels, out_channels, 1) if channels != out_channels else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip_connection(x)


class UpsampleBlock3d(nn.Module):
    """``Conv3d`` to ``8 x out_channels`` then :func:`pixel_shuffle_3d` by 2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels * 8, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return pixel_shuffle_3d(self.conv(x), 2)


class SparseStructureDecoder(nn.Module):
    """Occupancy logits from the structure latent (arguments as TRELLIS's config).

    Args:
        out_channels: 1 (occupancy logit).
        latent_channels: 8.
        num_res_blocks: residual blocks per resolution (2).
        channels: widths per resolution ([512, 128, 32]); one x2 upsampling between them.
        num_res_blocks_middle: blocks at the latent resolution (2).
        norm_type: ``"layer"``.
        use_fp16 / torso_dtype: half-precision torso.
    """

    def __init__(self, out_channels: int, latent_channels: int, num_res_blocks: int, channels: list[int],
                 num_res_blocks_middle: int = 2, norm_type: str = "layer", use_fp16: bool = False,
                 torso_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.latent_channels = latent_channels
        self.upsampling = 2 ** (len(channels) - 1)
        self.input_layer = nn.Conv3d(latent_channels, channels[0], 3, padding=1)
        self.middle_block = nn.Sequential(*[ResBlock3d(channels[0], channels[0], norm_type)
                                            for _ in range(num_res_blocks_middle)])
        blocks: list[nn.Module] = []
        for i, ch in enumerate(channels):
            blocks.extend(ResBlock3d(ch, ch, norm_type) for _ in range(num_res_blocks))
            if i < len(channels) - 1:
                blocks.append(UpsampleBlock3d(ch, channels[i + 1]))
        self.blocks = nn.ModuleList(blocks)
        self.out_layer = nn.Sequential(ChannelLayerNorm32(channels[-1]), nn.SiLU(),
                                       nn.Conv3d(channels[-1], out_channels, 3, padding=1))
        self.dtype = torso_dtype or (torch.float16 if use_fp16 else torch.float32)
        if self.dtype != torch.float32:
            convert_torso(self.blocks, self.dtype)
            convert_torso(self.middle_block, self.dtype)

    def forward(self, z: Tensor) -> Tensor:
        """``z [B, 8, r, r, r]`` -> logits ``[B, 1, r f, r f, r f]`` (f = 4 for the published model)."""
        h = self.input_layer(z).type(self.dtype)
        h = self.middle_block(h)
        for block in self.blocks:
            h = block(h)
        return self.out_layer(h.type(z.dtype))

    @torch.no_grad()
    def occupied(self, z: Tensor) -> Tensor:
        """``[N, 4]`` int32 ``(batch, x, y, z)`` of the cells with logit > 0."""
        return torch.argwhere(self(z)[:, 0] > 0).to(torch.int32)
