"""What every renderer returns, and the small protocol backends implement.

Mesh rendering is split the way nvdiffrast splits it:

1. :class:`Fragments` (visibility): for every pixel the front-most triangle and its
   perspective-correct barycentrics. Not differentiable; depends only on geometry and cameras,
   so optimisation loops with fixed geometry compute it once and reuse it.
2. Shading: interpolate vertex attributes with the barycentrics and sample textures. Pure
   PyTorch, differentiable with respect to textures and per-vertex attributes.

Backends differ only in step 1 (pure PyTorch on CPU, OpenGL through moderngl, nvdiffrast on
CUDA). Gaussian splatting renderers return the same :class:`RenderOutput` with ``uv`` and
``face_id`` left as ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch


@dataclass
class Fragments:
    """Per-pixel visibility of a mesh for N views.

    Attributes:
        face_id: ``[N, H, W]`` int64 index of the visible face, -1 for background.
        bary: ``[N, H, W, 3]`` float32 perspective-correct barycentrics (0 on background).
        depth: ``[N, H, W]`` float32 camera-space z (0 on background).
        camera_centers: ``[N, 3]`` world-space camera positions (for view-dependent shading such
            as the headlight), or ``None`` when the caller did not provide them.
        camera_forward: ``[N, 3]`` world-space viewing directions of orthographic views (every
            ray is parallel to it), ``None`` for perspective views.
        ssaa: supersampling factor the fragments were rasterised at (``H`` and ``W`` are
            ``ssaa`` times the output size); shading averages ``ssaa x ssaa`` blocks.
    """

    face_id: torch.Tensor
    bary: torch.Tensor
    depth: torch.Tensor
    camera_centers: torch.Tensor | None = None
    ssaa: int = 1
    camera_forward: torch.Tensor | None = None

    @property
    def mask(self) -> torch.Tensor:
        """``[N, H, W]`` bool, True where a face is visible."""
        return self.face_id >= 0


@dataclass
class RenderOutput:
    """Rendered views, all channels-first.

    Attributes:
        rgb: ``[N, 3, H, W]`` colour in [0, 1], composited over the background.
        alpha: ``[N, 1, H, W]`` coverage in [0, 1].
        depth: ``[N, 1, H, W]`` camera-space z, 0 on background.
        normals: ``[N, 3, H, W]`` world-space unit normals, 0 on background (or ``None``).
        uv: ``[N, 2, H, W]`` texture coordinates (image convention), 0 on background (or ``None``).
        face_id: ``[N, 1, H, W]`` int64 visible face, -1 on background (or ``None``).
    """

    rgb: torch.Tensor
    alpha: torch.Tensor
    depth: torch.Tensor
    normals: torch.Tensor | None = None
    uv: torch.Tensor | None = None
    face_id: torch.Tensor | None = None


@runtime_checkable
class Rasterizer(Protocol):
    """A visibility backend: triangles + cameras -> :class:`Fragments`."""

    name: str

    def rasterize(
        self,
        vertices: torch.Tensor,  # [V, 3] world-space positions
        faces: torch.Tensor,  # [F, 3] int64
        c2w: torch.Tensor,  # [N, 4, 4] OpenCV camera-to-world
        K: torch.Tensor,  # [N, 3, 3] intrinsics in pixels
        width: int,
        height: int,
        near: float = 0.05,
        far: float = 100.0,
        orthographic: bool = False,  # parallel projection: K maps camera x, y to pixels directly
    ) -> Fragments: ...
