"""A fixed camera set over fixed geometry: rasterise once, re-shade with new textures every step.

Texture optimisation never moves a vertex, so visibility (which face covers which pixel, and the
barycentrics) is computed once per camera set; each step only re-runs the differentiable
shading pass, which is cheap and gives gradients to the textures.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import torch

from photo3d.cameras import Cameras
from photo3d.render import Fragments, MeshTensors, RenderOutput, rasterize, shade

BACKGROUND = (1.0, 1.0, 1.0)


class FixedViews:
    """Cached fragments of ``mesh`` seen by ``cameras``.

    Args:
        mesh: the mesh tensors (their device is used).
        cameras: N cameras of one size.
        backend: visibility backend (``"auto"`` picks the fastest available).
        ssaa: supersampling factor (1 = none; 2 anti-aliases edges at 4x the shading cost).
        shading: forwarded to :func:`photo3d.render.shade`.
    """

    def __init__(self, mesh: MeshTensors, cameras: Cameras, backend: str = "auto", ssaa: int = 1,
                 shading: str = "unlit") -> None:
        self.mesh = mesh
        self.cameras = cameras
        self.shading = shading
        self.fragments = rasterize(mesh, cameras, backend=backend, ssaa=ssaa)
        # One Fragments object per view subset: shade() caches geometry-only state on it, so
        # reusing the same object across steps keeps that cache warm.
        self._subsets: dict[tuple[int, ...], Fragments] = {}

    def __len__(self) -> int:
        return len(self.cameras)

    def subset(self, idx: Sequence[int] | torch.Tensor | None) -> Fragments:
        """Fragments of the views ``idx`` (all views when ``None``)."""
        if idx is None:
            return self.fragments
        key = tuple(int(i) for i in torch.as_tensor(idx).reshape(-1).tolist())
        if key not in self._subsets:
            f = self.fragments
            sel = torch.tensor(key, dtype=torch.long, device=f.face_id.device)
            pick = lambda t: None if t is None else t[sel]  # noqa: E731
            self._subsets[key] = replace(f, face_id=f.face_id[sel], bary=f.bary[sel], depth=f.depth[sel],
                                         camera_centers=pick(f.camera_centers), camera_forward=pick(f.camera_forward))
        return self._subsets[key]

    def render(self, textures: Sequence[torch.Tensor | None] | None = None,
               idx: Sequence[int] | torch.Tensor | None = None) -> RenderOutput:
        """Shade views ``idx`` with per-material ``textures`` (differentiable w.r.t. them).

        Args:
            textures: one ``[C, H, W]`` tensor or ``None`` per material (``None`` = the mesh's).
            idx: view indices (default all).

        Returns:
            :class:`RenderOutput` with ``rgb`` ``[n, 3, H, W]`` on white.
        """
        return shade(self.mesh, self.subset(idx), textures=textures, background=BACKGROUND, shading=self.shading)

    @torch.no_grad()
    def face_material(self, out: RenderOutput) -> torch.Tensor:
        """``[n, H, W]`` material index of the visible face per pixel, -1 on background."""
        fid = out.face_id[:, 0]
        mat = torch.full_like(fid, -1)
        fg = fid >= 0
        mat[fg] = self.mesh.face_material[fid[fg]]
        return mat
