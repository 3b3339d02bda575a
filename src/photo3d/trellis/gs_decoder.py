"""SLAT -> 3D Gaussians: TRELLIS's Gaussian decoder (shifted-window sparse transformer).

``SLatGaussianDecoder`` in TRELLIS (``slat_dec_gs_swin8_B_64l8gs32_fp16``: width 768, 12 blocks,
window 8 shifted by 4 on odd blocks, 32 Gaussians per voxel). Per voxel the output layer gives,
for each of its K Gaussians, an offset (3), a DC colour coefficient (3), a scale (3), a rotation
(4) and an opacity (1); they become :class:`~photo3d.gaussians.Gaussians` in the TRELLIS world
frame (Z up, inside ``[-0.5, 0.5]^3``) exactly as TRELLIS's ``Gaussian`` representation does:

* centre  = voxel centre + ``tanh(lr * offset + perturbation) * 0.5 * voxel_size / resolution``
  (the perturbation is a fixed Hammersley set, buffer ``offset_perturbation``), minus 0.5;
* scale   = ``sqrt(softplus(lr * s + softplus^-1(scaling_bias))^2 + min_kernel^2)``;
* opacity = ``sigmoid(lr * o + logit(opacity_bias))``; rotation = ``lr * r + (1, 0, 0, 0)`` (wxyz);
* colour  = ``0.5 + C0 * f_dc`` (SH degree 0; not clamped here, see :func:`clamp_colors`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from photo3d.gaussians.model import SH_C0, Gaussians
from photo3d.trellis.blocks import SparseTransformerBlock, convert_torso, position_embedding
from photo3d.trellis.sparse import SparseTensor

# (name, values per Gaussian) in the order of the output channels
_LAYOUT = (("_xyz", 3), ("_features_dc", 3), ("_scaling", 3), ("_rotation", 4), ("_opacity", 1))
_PRIMES = (2, 3, 5, 7, 11, 13)


def _radical_inverse(base: int, n: int) -> float:
    val, inv = 0.0, 1.0 / base
    f = inv
    while n > 0:
        val += (n % base) * f
        n //= base
        f *= inv
    return val


def hammersley(n: int, count: int, dim: int = 3) -> list[float]:
    """Point ``n`` of a ``count``-point Hammersley set in ``[0, 1)^dim``."""
    return [n / count] + [_radical_inverse(_PRIMES[d], n) for d in range(dim - 1)]


# How TRELLIS renders its Gaussians: a 0.1 px screen-space filter with Mip-Splatting's opacity
# compensation (representation "2d_filter_kernel_size"); options of photo3d.render.render_gaussians.
RENDER_OPTIONS = {"eps2d": 0.1, "antialiased": True}


def clamp_colors(gaussians: Gaussians) -> Gaussians:
    """Colours clamped at 0 from below, as the Gaussian rasteriser TRELLIS renders with does."""
    return Gaussians(gaussians.means, gaussians.log_scales, gaussians.quats, gaussians.opacity_logits,
                     gaussians.colors.clamp(min=0.0))


class SLatGaussianDecoder(nn.Module):
    """Sparse transformer decoder from SLAT to Gaussians (arguments as TRELLIS's config).

    Args:
        resolution: voxel grid side (64).
        model_channels: width (768).
        latent_channels: SLAT channels (8).
        num_blocks: transformer blocks (12).
        num_heads / num_head_channels: heads (12).
        mlp_ratio: 4.
        attn_mode: ``"swin"`` (shifted windows) or ``"full"``.
        window_size: window side (8).
        pe_mode: ``"ape"``.
        use_fp16 / torso_dtype: half-precision torso.
        qk_rms_norm: as in TRELLIS.
        representation_config: ``lr``, ``perturb_offset``, ``voxel_size``, ``num_gaussians``,
            ``3d_filter_kernel_size``, ``scaling_bias``, ``opacity_bias``, ``scaling_activation``.
    """

    def __init__(self, resolution: int, model_channels: int, latent_channels: int, num_blocks: int,
                 num_heads: int | None = None, num_head_channels: int = 64, mlp_ratio: float = 4,
                 attn_mode: str = "swin", window_size: int = 8, pe_mode: str = "ape", use_fp16: bool = False,
                 use_checkpoint: bool = False, qk_rms_norm: bool = False, representation_config: dict | None = None,
                 torso_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if pe_mode != "ape":
            raise NotImplementedError(f"pe_mode={pe_mode!r}: only 'ape' (the published TRELLIS models) is implemented")
        if attn_mode not in ("swin", "full"):
            raise NotImplementedError(f"attn_mode={attn_mode!r}: only 'swin' and 'full' are implemented")
        rep = dict(representation_config or {})
        self.rep = rep
        self.resolution, self.model_channels = resolution, model_channels
        self.num_gaussians = k = int(rep["num_gaussians"])
        if rep.get("scaling_activation", "exp") not in ("exp", "softplus"):
            raise ValueError(f"unknown scaling_activation {rep['scaling_activation']!r}")
        heads = num_heads or model_channels // num_head_channels
        self.input_layer = nn.Linear(latent_channels, model_channels)
        self.blocks = nn.ModuleList([
            SparseTransformerBlock(model_channels, heads, mlp_ratio,
                                   attn_mode="windowed" if attn_mode == "swin" else "full",
                                   window_size=window_size if attn_mode == "swin" else None,
                                   shift_window=(window_size // 2) * (i % 2) if attn_mode == "swin" else 0,
                                   qk_rms_norm=qk_rms_norm)
            for i in range(num_blocks)
        ])
        self.out_layer = nn.Linear(model_channels, k * sum(n for _, n in _LAYOUT))
        pert = torch.tensor([hammersley(i, k) for i in range(k)], dtype=torch.float32) * 2 - 1
        self.register_buffer("offset_perturbation", torch.atanh(pert / rep["voxel_size"]))
        for block in self.blocks:
            block.use_checkpoint = use_checkpoint
        self.dtype = torso_dtype or (torch.float16 if use_fp16 else torch.float32)
        if self.dtype != torch.float32:
            convert_torso(self.blocks, self.dtype)

    def raw(self, x: SparseTensor) -> SparseTensor:
        """The network output before the representation: ``feats [N, 14 K]``."""
        h = self.input_layer(x.feats) + position_embedding(x.coords[:, 1:], self.model_channels)
        h = x.replace(h.type(self.dtype))
        for block in self.blocks:
            h = block(h)
        f = F.layer_norm(h.feats.type(x.dtype), h.feats.shape[-1:])
        return x.replace(self.out_layer(f))

    def forward(self, x: SparseTensor) -> list[Gaussians]:
        """SLAT (de-normalised) -> one :class:`Gaussians` per batch element (``N_b * K`` each)."""
        return self.to_gaussians(self.raw(x))

    def to_gaussians(self, out: SparseTensor) -> list[Gaussians]:
        """Network output -> Gaussians, per batch element (see the module docstring)."""
        rep, k, res = self.rep, self.num_gaussians, self.resolution
        lr = rep.get("lr", {})
        parts, start = {}, 0
        for name, n in _LAYOUT:
            parts[name] = out.feats[:, start:start + k * n].reshape(-1, k, n) * lr.get(name, 1.0)
            start += k * n
        offset = parts["_xyz"]
        if rep.get("perturb_offset", False):
            offset = offset + self.offset_perturbation.to(offset.dtype)
        offset = torch.tanh(offset) / res * 0.5 * rep["voxel_size"]
        centres = (out.coords[:, 1:].to(offset.dtype) + 0.5) / res
        means = (centres[:, None] + offset).reshape(-1, 3) - 0.5  # aabb [-0.5]^3 + [1]^3
        scale_bias = torch.tensor(float(rep["scaling_bias"]))
        if rep.get("scaling_activation", "exp") == "softplus":
            act, bias = F.softplus, scale_bias + torch.log(-torch.expm1(-scale_bias))
        else:
            act, bias = torch.exp, torch.log(scale_bias)
        scales = act(parts["_scaling"].reshape(-1, 3) + bias.to(offset))
        scales = torch.sqrt(scales.square() + float(rep.get("3d_filter_kernel_size", 0.0)) ** 2)
        opacity_bias = torch.logit(torch.tensor(float(rep["opacity_bias"])))
        rot_bias = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=offset.dtype, device=offset.device)
        g = Gaussians(
            means=means,
            log_scales=torch.log(scales),
            quats=parts["_rotation"].reshape(-1, 4) + rot_bias,
            opacity_logits=parts["_opacity"].reshape(-1) + opacity_bias.to(offset),
            colors=0.5 + SH_C0 * parts["_features_dc"].reshape(-1, 3),
        )
        if out.batch_size == 1:
            return [g]
        counts = [n * k for n in out.seq_lens]
        return [Gaussians(*fields) for fields in zip(*(t.split(counts) for t in
                (g.means, g.log_scales, g.quats, g.opacity_logits, g.colors)))]
