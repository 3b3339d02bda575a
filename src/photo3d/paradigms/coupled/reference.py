"""A compact reference generator of the TRELLIS family, small enough to train on a CPU.

Same shape as TRELLIS's second stage, at toy scale, written from scratch:

* **Structured latent**: the occupied voxels of an ``r^3`` grid over the asset's surface, each
  with a C = 8 channel feature. ``x0`` for a sample is derived from its mesh (mean surface
  colour and normal per voxel), the analogue of TRELLIS's encoded SLAT. When the sample ships a
  TRELLIS ``slat.npz`` that is not used here (it belongs to the TRELLIS adapter).
* **Flow model** (:class:`VoxelFlow`): a few transformer blocks over the voxel tokens with
  sinusoidal position and timestep embeddings and adaLN modulation by (timestep + condition);
  the condition vector comes from a tiny conv encoder of the condition image.
* **Gaussian decoder** (:class:`VoxelGaussianDecoder`): K Gaussians per voxel (offset, log-scale,
  rotation, opacity, colour) from the voxel feature, initialised so that a clean latent
  decodes to the asset's surface colours.

It starts untrained (no weights are shipped): it exists to exercise and test the whole coupled
path. Plug in a real TRELLIS with :mod:`photo3d.paradigms.coupled.trellis_adapter`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from photo3d.assets.sampling import sample_surface
from photo3d.gaussians.model import Gaussians

LATENT_CHANNELS = 8


def sinusoidal(x: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """``[..., dim]`` sin/cos embedding of the scalars ``x [...]``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=x.device) / half)
    ang = x.float()[..., None] * freqs
    return torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1)


class ConditionEncoder(nn.Module):
    """Tiny conv encoder: condition image ``[B, 3, H, W]`` in [0, 1] -> ``[B, dim]``."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 4, 2, 1), nn.SiLU(), nn.Conv2d(16, 32, 4, 2, 1), nn.SiLU(),
            nn.Conv2d(32, dim, 4, 2, 1), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(dim, dim),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(F.interpolate(image, size=(64, 64), mode="bilinear", align_corners=False) * 2 - 1)


class _Block(nn.Module):
    """Pre-norm transformer block with adaLN (shift, scale, gate) from the conditioning vector."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.ada = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        s1, g1, b1, s2, g2, b2 = self.ada(F.silu(c)).chunk(6, dim=-1)
        x = self.norm1(h) * (1 + s1) + b1
        h = h + (1 + g1) * self.attn(x, x, x, need_weights=False)[0]
        x = self.norm2(h) * (1 + s2) + b2
        return h + (1 + g2) * self.mlp(x)


class VoxelFlow(nn.Module):
    """Velocity network ``v(x_t, coords, t, cond)`` over one object's voxel tokens.

    Args:
        channels: latent channels C.
        width, depth, heads: transformer size.
        resolution: voxel grid r (for the position embedding).
    """

    def __init__(self, channels: int = LATENT_CHANNELS, width: int = 64, depth: int = 2, heads: int = 4,
                 resolution: int = 16) -> None:
        super().__init__()
        self.width, self.resolution = width, resolution
        self.inp = nn.Linear(channels, width)
        self.pos = nn.Linear(3 * (width // 4) * 2, width)
        self.t_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.cond_encoder = ConditionEncoder(width)
        self.blocks = nn.ModuleList(_Block(width, heads) for _ in range(depth))
        self.out_norm = nn.LayerNorm(width, elementwise_affine=False)
        self.out = nn.Linear(width, channels)
        nn.init.zeros_(self.out.weight)  # DiT-style: the untrained model predicts v = 0
        nn.init.zeros_(self.out.bias)

    def encode_condition(self, image: torch.Tensor | None) -> torch.Tensor:
        """``[3, H, W]`` condition image -> ``[width]``; ``None`` gives the zeroed (unconditional) vector."""
        if image is None:
            return torch.zeros(self.width, device=self.out.weight.device)
        return self.cond_encoder(image[None].to(self.out.weight.device))[0]

    def forward(self, x_t: torch.Tensor, coords: torch.Tensor, t: float, cond: torch.Tensor) -> torch.Tensor:
        """``x_t [V, C]``, ``coords [V, 3]`` int, ``t`` in [0, 1], ``cond [width]`` -> ``v [V, C]``."""
        pe = sinusoidal(coords.float() * (64.0 / self.resolution), 2 * (self.width // 4)).reshape(len(coords), -1)
        h = self.inp(x_t) + self.pos(pe)
        c = self.t_mlp(sinusoidal(torch.tensor([1000.0 * t], device=x_t.device), self.width)) + cond[None]
        h = h[None]
        for blk in self.blocks:
            h = blk(h, c[:, None, :])
        return self.out(self.out_norm(h[0]))


class VoxelGaussianDecoder(nn.Module):
    """K Gaussians per voxel from the voxel's latent feature.

    Args:
        channels: latent channels C (the first three carry ``2 * (rgb - 0.5)`` by construction).
        k: Gaussians per voxel.
        resolution: voxel grid r over [-0.5, 0.5]^3.
        hidden: MLP width.
    """

    def __init__(self, channels: int = LATENT_CHANNELS, k: int = 4, resolution: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.k, self.resolution = k, resolution
        self.mlp = nn.Sequential(nn.Linear(channels + 24, hidden), nn.SiLU(), nn.Linear(hidden, k * 14))
        nn.init.normal_(self.mlp[-1].weight, std=1e-3)
        nn.init.zeros_(self.mlp[-1].bias)
        # fixed sub-voxel layout so the K Gaussians of a voxel start spread out
        base = torch.linspace(-0.25, 0.25, k)[:, None] * torch.tensor([[1.0, -1.0, 0.5]])
        self.register_buffer("base_offset", base, persistent=False)

    def forward(self, x0: torch.Tensor, coords: torch.Tensor) -> Gaussians:
        """``x0 [V, C]``, ``coords [V, 3]`` -> ``V * K`` :class:`Gaussians`."""
        vs = 1.0 / self.resolution
        centre = (coords.float() + 0.5) * vs - 0.5
        raw = self.mlp(torch.cat([x0, sinusoidal(centre * 8.0, 8).reshape(len(x0), -1)], -1)).view(-1, self.k, 14)
        offset = (self.base_offset + 0.5 * torch.tanh(raw[..., 0:3])) * vs
        log_scales = math.log(0.45 * vs) + raw[..., 3:6]
        quats = torch.tensor([1.0, 0.0, 0.0, 0.0], device=x0.device) + raw[..., 6:10]
        opacity = 2.0 + raw[..., 10]
        base_rgb = (0.5 + 0.5 * x0[:, None, :3]).clamp(0.02, 0.98)
        colors = torch.sigmoid(torch.logit(base_rgb) + raw[..., 11:14])
        return Gaussians(
            means=(centre[:, None, :] + offset).reshape(-1, 3), log_scales=log_scales.reshape(-1, 3),
            quats=quats.reshape(-1, 4), opacity_logits=opacity.reshape(-1), colors=colors.reshape(-1, 3),
        )


def surface_latent(mesh, resolution: int = 16, n_points: int = 20000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Voxelise a mesh's surface: occupied voxel coords and their C = 8 channel features.

    Features: ``2 * (mean rgb - 0.5)`` (3), mean normal (3), surface-sample density (1), 0 (1).

    Args:
        mesh: a :class:`photo3d.assets.mesh.Mesh` in the world frame.
        resolution: grid r over [-0.5, 0.5]^3.
        n_points: surface samples (area-weighted, seeded).

    Returns:
        ``coords [V, 3]`` int64 and ``feats [V, 8]`` float32.
    """
    samples = sample_surface(mesh, n_points, seed)
    pts, normals, face, bary = samples.points, samples.normals, samples.face, samples.bary
    rgb = _surface_colour(mesh, face, bary)
    ijk = np.clip(np.floor((pts + 0.5) * resolution), 0, resolution - 1).astype(np.int64)
    key = (ijk[:, 0] * resolution + ijk[:, 1]) * resolution + ijk[:, 2]
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    feats = np.zeros((len(uniq), LATENT_CHANNELS))
    np.add.at(feats[:, 0:3], inv, 2 * (rgb - 0.5))
    np.add.at(feats[:, 3:6], inv, normals)
    feats[:, :6] /= counts[:, None]
    feats[:, 6] = np.log(counts / counts.mean())
    coords = np.stack([uniq // resolution**2, (uniq // resolution) % resolution, uniq % resolution], 1)
    return torch.from_numpy(coords), torch.from_numpy(feats.astype(np.float32))


def _surface_colour(mesh, face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] at surface samples: texture (nearest texel), else vertex colours, else factor."""
    fv = mesh.faces[face]
    mats = mesh.materials
    fm = mesh.face_material[face]
    factor = np.stack([np.asarray(m.base_color_factor, np.float64)[:3] for m in mats])[fm]
    if mesh.uv is not None and any(m.base_color_texture is not None for m in mats):
        uv = np.einsum("nk,nkd->nd", bary, mesh.uv[fv])
        rgb = np.ones((len(face), 3))
        for i, m in enumerate(mats):
            sel = fm == i
            if m.base_color_texture is None or not sel.any():
                continue
            tex = m.base_color_texture
            h, w = tex.shape[:2]
            x = np.clip((np.mod(uv[sel, 0], 1.0) * w).astype(int), 0, w - 1)
            y = np.clip((np.mod(uv[sel, 1], 1.0) * h).astype(int), 0, h - 1)
            rgb[sel] = tex[y, x, :3] / 255.0
        return rgb * factor
    if mesh.vertex_colors is not None:
        return np.einsum("nk,nkd->nd", bary, mesh.vertex_colors[fv][..., :3]) * factor
    return factor
