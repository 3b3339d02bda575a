"""What a texturer returns, and the protocol every texturing paradigm implements.

Two paradigms texture a given mesh: multi-view diffusion produces views at known cameras
(:class:`ViewsResult`, back-projected by :func:`photo3d.bake.bake_views`); feed-forward texturers
produce 3D Gaussians on the surface (:class:`GaussiansResult`, fitted into a texture by
:func:`photo3d.bake.fit_texture`). :func:`photo3d.texture.texture_mesh` runs either and bakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch

from photo3d.cameras import Cameras
from photo3d.gaussians import Gaussians


@dataclass
class ViewsResult:
    """Views of the mesh at known cameras, to be back-projected onto its UV atlas.

    Attributes:
        images: ``[V, 3, H, W]`` in [0, 1], white background.
        cameras: the V cameras (perspective or orthographic).
        view_weights: per-view blending weights (Step1X-3D: ``[1, .1, .5, .1, .05, .05]``), or
            ``None`` for equal weights.
        record: what ran (model ids, stand-in flags, seeds).
    """

    images: torch.Tensor
    cameras: Cameras
    view_weights: list[float] | None = None
    record: dict = field(default_factory=dict)


@dataclass
class GaussiansResult:
    """Gaussians on the mesh surface; the baker fits a UV texture so the mesh render matches them.

    Attributes:
        gaussians: in the TRELLIS frame (the mesh's world frame).
        materials: ``[G, 2]`` (roughness, metallic) in [0, 1], optional.
        record: what ran (model ids, stand-in flags, seeds).
    """

    gaussians: Gaussians
    materials: torch.Tensor | None = None
    record: dict = field(default_factory=dict)


@runtime_checkable
class Texturer(Protocol):
    """A texturing model: a mesh (+ prompt, optional reference image) -> views or Gaussians."""

    name: str

    def texture(self, asset, prompt: str, image: torch.Tensor | None, seed: int) -> ViewsResult | GaussiansResult:
        """Texture ``asset``.

        Args:
            asset: a :class:`photo3d.assets.Asset` already in the world frame (Z up, longest side 1).
            prompt: the text prompt.
            image: optional reference image ``[3, H, W]`` in [0, 1].
            seed: random seed.
        """
        ...
