"""The octree U-Net of TexGaussian (Xiong et al., CVPR 2025), written on ``ocnn``.

Features live on the non-empty nodes of one (batched) ``ocnn`` octree: ``[N_d, C]`` at depth d.
The encoder runs from the leaf depth D down to D - L + 1 (L = len(channel_mult)) with strided
octree convolutions, the decoder back up with nearest-neighbour octree upsampling, with a skip
connection per ResNet block (diffusers-UNet-like bookkeeping: every block output of the encoder
is consumed by one decoder block, last in first out).

* :class:`ResnetBlock`: GroupNorm -> SiLU -> 3^3 conv, twice, plus a (1x1) shortcut, the sum
  times ``skip_scale`` (sqrt(1/2) as released).
* :class:`CrossAttention`: pre-LayerNorm ``nn.MultiheadAttention`` from the nodes of each object
  to that object's text tokens, added residually (no norm on the tokens).

Attribute names follow the released checkpoints (``down_blocks.3.attns.1.cross_attn.q_proj_weight``,
``up_blocks.0.nets.2.shortcut.linear.weight``, ...), so they load key for key
(:mod:`.checkpoint`). ocnn parameter layouts: ``OctreeConv.weights [27, C_in, C_out]`` and
``bias [C_out]``, ``OctreeGroupNorm.weights/bias [1, C]``, ``Conv1x1.linear`` a ``nn.Linear``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from photo3d.paradigms.feedforward._ocnn import import_ocnn
from photo3d.paradigms.feedforward.config import Architecture


def _conv(ocnn, cin: int, cout: int, stride: int = 1) -> nn.Module:
    return ocnn.nn.OctreeConv(cin, cout, kernel_size=[3], stride=stride, nempty=True, use_bias=True)


def _group_norm(ocnn, channels: int, min_group_channels: int) -> nn.Module:
    return ocnn.nn.OctreeGroupNorm(channels, group=32, nempty=True, min_group_channels=min_group_channels)


class _Checkpointed(nn.Module):
    """Runs ``forward`` under activation checkpointing while training (when enabled)."""

    use_checkpoint: bool = False

    def __call__(self, *args, **kwargs):
        if self.use_checkpoint and self.training and torch.is_grad_enabled():
            return checkpoint(super().__call__, *args, use_reentrant=False, **kwargs)
        return super().__call__(*args, **kwargs)


class ResnetBlock(_Checkpointed):
    """Two GroupNorm-SiLU-conv layers with a residual shortcut, on non-empty octree nodes.

    Args:
        cin, cout: channels.
        skip_scale: the sum is multiplied by it.
        min_group_channels: ocnn GroupNorm argument (groups = min(32, C // it)).
    """

    def __init__(self, cin: int, cout: int, skip_scale: float, min_group_channels: int = 4) -> None:
        super().__init__()
        ocnn = import_ocnn()
        self.norm1, self.conv1 = _group_norm(ocnn, cin, min_group_channels), _conv(ocnn, cin, cout)
        self.norm2, self.conv2 = _group_norm(ocnn, cout, min_group_channels), _conv(ocnn, cout, cout)
        self.shortcut = nn.Identity() if cin == cout else ocnn.modules.Conv1x1(cin, cout, use_bias=True)
        self.skip_scale = skip_scale

    def forward(self, x: torch.Tensor, octree, depth: int) -> torch.Tensor:
        """``x [N_depth, cin]`` -> ``[N_depth, cout]``."""
        h = self.conv1(F.silu(self.norm1(x, octree, depth)), octree, depth)
        h = self.conv2(F.silu(self.norm2(h, octree, depth)), octree, depth)
        return (h + self.shortcut(x)) * self.skip_scale


class CrossAttention(_Checkpointed):
    """Octree nodes attend to their own object's text tokens (residual, pre-norm on the nodes).

    Args:
        dim: node channels.
        num_heads: attention heads.
        context_dim: token width (768 for CLIP ViT-L/14 text).
    """

    def __init__(self, dim: int, num_heads: int, context_dim: int) -> None:
        super().__init__()
        self.cross_norm = nn.LayerNorm(dim)
        self.cross_attn = nn.MultiheadAttention(dim, num_heads, kdim=context_dim, vdim=context_dim,
                                                batch_first=True)

    def forward(self, x: torch.Tensor, octree, depth: int, context: torch.Tensor) -> torch.Tensor:
        """``x [N_depth, dim]``, ``context [B, T, context_dim]`` -> ``[N_depth, dim]``."""
        q = self.cross_norm(x)
        counts = octree.batch_nnum_nempty[depth].tolist() if octree.batch_size > 1 else [len(x)]
        # nodes are stored object by object, so per-object attention is a split, not a gather
        out = [self.cross_attn(qi[None], context[i:i + 1], context[i:i + 1], need_weights=False)[0][0]
               for i, qi in enumerate(torch.split(q, counts))]
        return x + torch.cat(out)


def _attention(on: bool, dim: int, arch: Architecture) -> CrossAttention | None:
    return CrossAttention(dim, arch.num_heads, arch.context_dim) if on else None


class DownBlock(nn.Module):
    """``layers`` ResNet blocks (each optionally followed by cross-attention), then a stride-2 conv."""

    def __init__(self, cin: int, cout: int, layers: int, attention: bool, downsample: bool,
                 arch: Architecture, skip_scale: float, min_group_channels: int) -> None:
        super().__init__()
        self.nets = nn.ModuleList(ResnetBlock(cin if i == 0 else cout, cout, skip_scale, min_group_channels)
                                  for i in range(layers))
        self.attns = nn.ModuleList(_attention(attention, cout, arch) for _ in range(layers))
        self.downsample = _conv(import_ocnn(), cout, cout, stride=2) if downsample else None

    def forward(self, x, octree, depth: int, context) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Returns the output (at ``depth - 1`` when downsampling) and the skip features."""
        skips = []
        for net, attn in zip(self.nets, self.attns):
            x = net(x, octree, depth)
            if attn is not None:
                x = attn(x, octree, depth, context)
            skips.append(x)
        if self.downsample is not None:
            x = self.downsample(x, octree, depth)
            skips.append(x)
        return x, skips


class MidBlock(nn.Module):
    """ResNet block, then ``layers`` x (cross-attention, ResNet block), at the coarsest depth."""

    def __init__(self, dim: int, layers: int, attention: bool, arch: Architecture, skip_scale: float,
                 min_group_channels: int) -> None:
        super().__init__()
        self.nets = nn.ModuleList(ResnetBlock(dim, dim, skip_scale, min_group_channels)
                                  for _ in range(layers + 1))
        self.attns = nn.ModuleList(_attention(attention, dim, arch) for _ in range(layers))

    def forward(self, x, octree, depth: int, context) -> torch.Tensor:
        x = self.nets[0](x, octree, depth)
        for attn, net in zip(self.attns, self.nets[1:]):
            if attn is not None:
                x = attn(x, octree, depth, context)
            x = net(x, octree, depth)
        return x


class UpBlock(nn.Module):
    """``layers`` x (concat a skip, ResNet block, optional cross-attention), then upsample + conv.

    Args:
        cin: channels coming from below; cskip: channels of the last skip this block takes;
        cout: output channels. The other skips have ``cout`` channels.
    """

    def __init__(self, cin: int, cskip: int, cout: int, layers: int, attention: bool, upsample: bool,
                 arch: Architecture, skip_scale: float, min_group_channels: int) -> None:
        super().__init__()
        ocnn = import_ocnn()
        self.nets = nn.ModuleList(
            ResnetBlock((cin if i == 0 else cout) + (cskip if i == layers - 1 else cout), cout, skip_scale,
                        min_group_channels)
            for i in range(layers))
        self.attns = nn.ModuleList(_attention(attention, cout, arch) for _ in range(layers))
        self.up_pool = ocnn.nn.OctreeUpsample(method="nearest", nempty=True) if upsample else None
        self.upsample = _conv(ocnn, cout, cout) if upsample else None

    def forward(self, x, skips: list[torch.Tensor], octree, depth: int, context) -> torch.Tensor:
        """Consumes ``skips`` from the end; returns features at ``depth + 1`` when upsampling."""
        for net, attn in zip(self.nets, self.attns):
            x = net(torch.cat([x, skips.pop()], dim=1), octree, depth)
            if attn is not None:
                x = attn(x, octree, depth, context)
        if self.upsample is not None:
            x = self.upsample(self.up_pool(x, octree, depth), octree, depth + 1)
        return x


class OctreeUNet(nn.Module):
    """Text-conditioned octree U-Net: leaf features ``[N_D, in]`` -> per-leaf outputs ``[N_D, out]``.

    Args:
        arch: network shape (:data:`~.config.ARCHITECTURES`).
        min_group_channels: ocnn GroupNorm argument (see :class:`~.config.FeedForwardConfig`).
        skip_scale: ResNet output scale (released sqrt(0.5)).
    """

    def __init__(self, arch: Architecture, min_group_channels: int = 4,
                 skip_scale: float = math.sqrt(0.5)) -> None:
        super().__init__()
        ocnn = import_ocnn()
        self.arch = arch
        down = [arch.model_channels * m for m in arch.channel_mult]
        up = down[::-1]
        levels = len(down)
        if arch.depth - (levels - 1) < 1:
            raise ValueError(f"octree depth {arch.depth} is too shallow for {levels} U-Net levels")
        self.conv_in = _conv(ocnn, arch.in_channels, down[0])
        self.down_blocks = nn.ModuleList(
            DownBlock(down[max(i - 1, 0)], down[i], arch.layers_per_block, arch.down_attention[i],
                      i < levels - 1, arch, skip_scale, min_group_channels)
            for i in range(levels))
        self.mid_block = MidBlock(down[-1], arch.layers_per_block, arch.mid_attention, arch, skip_scale,
                                  min_group_channels)
        self.up_blocks = nn.ModuleList(
            UpBlock(up[max(i - 1, 0)], down[max(-2 - i, -levels)], up[i], arch.layers_per_block + 1,
                    arch.up_attention[i], i < levels - 1, arch, skip_scale, min_group_channels)
            for i in range(levels))
        self.norm_out = _group_norm(ocnn, up[-1], min_group_channels)
        self.conv_out = _conv(ocnn, up[-1], arch.out_channels)
        self.conv = _conv(ocnn, arch.out_channels, arch.out_channels)

    def set_checkpointing(self, enabled: bool) -> None:
        """Activation checkpointing of every ResNet and attention block (training only)."""
        for m in self.modules():
            if isinstance(m, _Checkpointed):
                m.use_checkpoint = enabled

    def forward(self, x: torch.Tensor, octree, context: torch.Tensor) -> torch.Tensor:
        """``x [N_D, in_channels]`` leaf features, ``context [B, T, context_dim]`` -> ``[N_D, out_channels]``."""
        depth = octree.depth
        x = self.conv_in(x, octree, depth)
        skips = [x]
        for block in self.down_blocks:
            x, s = block(x, octree, depth, context)
            skips.extend(s)
            depth -= block.downsample is not None
        x = self.mid_block(x, octree, depth, context)
        for block in self.up_blocks:
            x = block(x, skips, octree, depth, context)
            depth += block.upsample is not None
        x = self.conv_out(F.silu(self.norm_out(x, octree, depth)), octree, depth)
        return self.conv(x, octree, depth)


def meta_unet(arch: Architecture, **kwargs) -> OctreeUNet:
    """An :class:`OctreeUNet` whose parameters are meta tensors (no memory, for shape/key checks).

    ``ocnn`` allocates its parameters with the legacy ``torch.Tensor(*shape)`` constructor, which
    ignores ``torch.device("meta")``; so the network is built under ``FakeTensorMode`` (nothing
    allocated) and each parameter is then replaced by a meta tensor of the same shape.
    """
    from torch._subclasses.fake_tensor import FakeTensorMode

    import_ocnn()  # first: ocnn builds module-level lookup tables at import, which must be real
    with FakeTensorMode():
        net = OctreeUNet(arch, **kwargs)
    for module in net.modules():
        for name, p in list(module._parameters.items()):
            if p is not None:
                module._parameters[name] = nn.Parameter(torch.empty(p.shape, dtype=p.dtype, device="meta"),
                                                        requires_grad=p.requires_grad)
    return net
