"""nvdiffrast visibility on CUDA (optional; ``nvdiffrast`` is built from source, not on PyPI).

``dr.rasterize(ctx, pos_clip, tri, resolution)`` returns ``[N, H, W, 4]`` holding
``(u, v, z/w, triangle_id + 1)`` with perspective-correct barycentrics ``(u, v, 1 - u - v)`` of
the triangle's vertices 0, 1, 2 (affine in screen space for orthographic views, whose clip
``w`` is 1). Clip coordinates come from :func:`~photo3d.render.raster_setup.clip_matrices`, whose
``y_ndc = 2 v / H - 1`` makes nvdiffrast's row 0 (its ``y_ndc = -1`` row) image row 0, so no
flip is needed.
"""

from __future__ import annotations

import functools

import torch

from photo3d._optional import require
from photo3d.render.base import Fragments
from photo3d.render.raster_setup import clip_matrices, project_vertices


@functools.cache
def _context(device_index: int):
    dr = require("nvdiffrast.torch", "the nvdiffrast render backend")
    return dr, dr.RasterizeCudaContext(device=torch.device("cuda", device_index))


class NvdiffrastRasterizer:
    """Visibility with nvdiffrast's CUDA rasteriser."""

    name = "nvdiffrast"

    def rasterize(self, vertices: torch.Tensor, faces: torch.Tensor, c2w: torch.Tensor, K: torch.Tensor,
                  width: int, height: int, near: float = 0.05, far: float = 100.0,
                  orthographic: bool = False) -> Fragments:
        """Visible face, perspective-correct barycentrics and depth per pixel.

        Args:
            vertices: ``[V, 3]`` world positions on a CUDA device; faces: ``[F, 3]`` int64.
            c2w: ``[N, 4, 4]``; K: ``[N, 3, 3]``; width, height: image size.
            orthographic: parallel projection (see :mod:`photo3d.render.raster_setup`).

        Returns:
            :class:`Fragments` with ``[N, H, W]`` tensors on the vertices' device.
        """
        device = vertices.device
        if device.type != "cuda":
            raise ValueError("the nvdiffrast backend needs vertices on a CUDA device")
        dr, ctx = _context(device.index if device.index is not None else torch.cuda.current_device())
        with torch.no_grad():
            mvp = clip_matrices(c2w.to(device), K.to(device), width, height, near, far, orthographic).float()
            hom = torch.cat([vertices.detach().float(), torch.ones_like(vertices[:, :1], dtype=torch.float32)], 1)
            pos_clip = torch.einsum("nij,vj->nvi", mvp, hom).contiguous()  # [N, V, 4]
            tri = faces.to(device=device, dtype=torch.int32).contiguous()
            rast, _ = dr.rasterize(ctx, pos_clip, tri, resolution=[height, width])
            face_id = rast[..., 3].round().long() - 1  # exact for < 2**24 faces
            u, v = rast[..., 0], rast[..., 1]
            bary = torch.stack([u, v, 1.0 - u - v], -1)
            hit = face_id >= 0
            bary = torch.where(hit[..., None], bary, 0.0)
            z_vert = project_vertices(vertices.detach(), c2w.to(device), K.to(device), orthographic)[1]  # camera z
            fverts = faces.to(device)[face_id.clamp_min(0)]  # [N, H, W, 3]
            views = torch.arange(len(mvp), device=device).view(-1, 1, 1, 1)
            zf = z_vert[views, fverts]  # [N, H, W, 3]
            depth = torch.where(hit, (bary * zf).sum(-1), 0.0)
        return Fragments(face_id=face_id, bary=bary.float(), depth=depth.float())
