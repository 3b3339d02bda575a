"""The feed-forward texturer: mesh octree + prompt -> one 3D Gaussian per non-empty leaf.

Per-leaf head (TexGaussian's activations, on the U-Net's 10 output channels)::

    opacity   = sigmoid(o)                  o = channel 0
    scale     = 0.01 * softplus(s_xyz)      channels 1-3, network frame, x k (below)
    rgb       = sigmoid(c)                  channels 4-6
    material  = sigmoid(m)                  channels 7-9: (unused, roughness, metallic) as the
                                            released PBR model's G and B channels
    position  = the leaf's voxel centre     rotation = identity (not predicted)

The released renderer evaluates the rotation as the normalised zero quaternion, i.e. the
identity matrix; here it is the unit quaternion (1, 0, 0, 0). ``k = tan(39.6°/2) / tan(f/2)``
with ``f = splat_fov_deg``: 1 for a consistent camera; 30° reproduces the Photo3D release, whose
rasteriser sized splats with a 30° focal length while projecting with 39.6° (splats x1.34).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from photo3d.errors import InputError
from photo3d.gaussians.model import Gaussians
from photo3d.paradigms.feedforward.config import RIG_FOV, Architecture, FeedForwardConfig
from photo3d.paradigms.feedforward.octree import OctreeBatch, build_octree_batch, net_to_world_scales
from photo3d.paradigms.feedforward.unet import OctreeUNet

OPACITY, SCALE, RGB, MATERIAL = slice(0, 1), slice(1, 4), slice(4, 7), slice(7, 10)


def splat_multiplier(splat_fov_deg: float) -> float:
    """``k`` of the module docstring."""
    return math.tan(math.radians(RIG_FOV) / 2) / math.tan(math.radians(splat_fov_deg) / 2)


def leaf_gaussians(raw: torch.Tensor, centres: torch.Tensor, scale: float,
                   k: float = 1.0) -> tuple[Gaussians, torch.Tensor]:
    """One object's Gaussians (world frame) and materials from its U-Net outputs.

    Args:
        raw: ``[N, 10]`` U-Net outputs of the object's leaves.
        centres: ``[N, 3]`` world-frame voxel centres.
        scale: the network-frame scale ``s`` (:mod:`.octree`).
        k: splat size multiplier.

    Returns:
        ``(gaussians, materials [N, 2])`` with materials = (roughness, metallic) in [0, 1].
    """
    raw = raw.float()
    std_net = 0.01 * k * F.softplus(raw[:, SCALE]).clamp_min(1e-12)
    quats = torch.zeros(len(raw), 4, dtype=raw.dtype, device=raw.device)
    quats[:, 0] = 1.0
    g = Gaussians(
        means=centres.to(raw),
        log_scales=net_to_world_scales(std_net.log(), scale),
        quats=quats,
        opacity_logits=raw[:, 0],  # sigmoid(o) is the opacity, so o is its logit
        colors=torch.sigmoid(raw[:, RGB]),
    )
    return g, torch.sigmoid(raw[:, MATERIAL])[:, 1:3]


def init_untrained_head(unet: OctreeUNet, depth: int, opacity: float = 0.95) -> None:
    """Output bias of a randomly initialised network: opaque, grey, half-voxel splats.

    Only for models that are not loaded from a checkpoint: they then render a closed grey
    surface instead of speckle, which keeps untrained smoke runs readable. Weights are scaled
    by 0.1 so the outputs start near the bias.
    """
    conv = unet.conv
    with torch.no_grad():
        conv.weights.mul_(0.1)
        conv.bias.zero_()
        conv.bias[OPACITY] = math.log(opacity / (1 - opacity))
        half_voxel = 0.5 * 2.0 / 2**depth  # network units
        target = half_voxel / 0.01  # softplus(b) = target
        conv.bias[SCALE] = target + math.log(-math.expm1(-target))  # softplus^-1


class FeedForwardTexturer(nn.Module):
    """U-Net + head; the text encoder is held beside it (frozen, never checkpointed).

    Args:
        cfg: paradigm options (architecture, frame, splat multiplier).
        text_encoder: a :class:`~.text.CLIPTextTokens` whose width is the U-Net's context width.
    """

    def __init__(self, cfg: FeedForwardConfig, text_encoder: nn.Module) -> None:
        super().__init__()
        self.cfg = cfg
        self.arch: Architecture = cfg.architecture
        if text_encoder.width != self.arch.context_dim:
            needs = "CLIP ViT-L/14" if cfg.model == "texgaussian" else "the tiny tower"
            raise InputError(f"text encoder width {text_encoder.width} != U-Net context width "
                             f"{self.arch.context_dim} (model {cfg.model!r} needs {needs})")
        self.unet = OctreeUNet(self.arch, min_group_channels=cfg.gn_min_group_channels)
        self.unet.set_checkpointing(cfg.checkpointing)
        object.__setattr__(self, "text_encoder", text_encoder)  # not a submodule: not in state_dict
        self.k = splat_multiplier(cfg.splat_fov_deg)

    @property
    def device(self) -> torch.device:
        return self.unet.conv.weights.device

    def octrees(self, meshes: list, n_points: int, seeds: list[int]) -> OctreeBatch:
        """The meshes' merged octree on this model's device."""
        return build_octree_batch(meshes, n_points, self.arch.depth, self.arch.full_depth, self.cfg.normalize,
                                  seeds, self.device)

    def forward(self, batch: OctreeBatch, context: torch.Tensor) -> list[tuple[Gaussians, torch.Tensor]]:
        """Per object ``(gaussians, materials [G, 2])`` from an octree batch and ``context [B, 77, D]``."""
        raw = self.unet(batch.features, batch.octree, context.to(batch.features.device))
        pieces = zip(torch.split(raw, batch.counts), torch.split(batch.centres, batch.counts), batch.scales)
        return [leaf_gaussians(r, c, s, self.k) for r, c, s in pieces]

    @torch.no_grad()
    def texture(self, meshes: list, prompts: list[str], seed: int = 0) -> list[tuple[Gaussians, torch.Tensor]]:
        """Inference: ``infer_points`` samples per mesh, eval mode, no gradients."""
        was = self.training
        self.eval()
        try:
            batch = self.octrees(meshes, self.arch.infer_points, [seed + i for i in range(len(meshes))])
            return self(batch, self.text_encoder(prompts))
        finally:
            self.train(was)
