"""Geometry conditions of the multi-view model: position and normal maps from our rasteriser.

Step1X-3D / MV-Adapter ig2mv feed 6 channels per view to a T2I-Adapter: the world position
``p + 0.5`` and the world normal ``n / 2 + 0.5`` of the visible surface (both clamped to [0, 1]),
interpolated with the rasteriser's barycentrics, with no anti-aliasing; background pixels hold
position 0 and normal 0, i.e. 0.5 after the offsets. Upstream renders them with nvdiffrast; here
any photo3d visibility backend (torch, gl, nvdiffrast) produces the same maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from photo3d.cameras import Cameras
from photo3d.render import Fragments, MeshTensors, rasterize


@dataclass
class GeometryMaps:
    """Per-pixel surface geometry of N views.

    Attributes:
        position: ``[N, 3, H, W]`` world positions of the visible surface (0 on background).
        normal: ``[N, 3, H, W]`` unit world normals (0 on background).
        mask: ``[N, 1, H, W]`` bool coverage.
        depth: ``[N, 1, H, W]`` camera-space depth (0 on background).
    """

    position: torch.Tensor
    normal: torch.Tensor
    mask: torch.Tensor
    depth: torch.Tensor

    def control(self) -> torch.Tensor:
        """``[N, 6, H, W]`` adapter input in [0, 1]: ``(p + 0.5, n / 2 + 0.5)``, 0.5 on background."""
        return torch.cat([(self.position + 0.5).clamp(0, 1), (self.normal / 2 + 0.5).clamp(0, 1)], 1)

    def surface(self) -> tuple[torch.Tensor, torch.Tensor]:
        """World positions and normals ``[P, 3]`` of the covered pixels (view, row, column order)."""
        flat = self.mask.permute(0, 2, 3, 1).reshape(-1)
        pick = lambda x: x.permute(0, 2, 3, 1).reshape(-1, 3)[flat]  # noqa: E731
        return pick(self.position), pick(self.normal)

    def paint(self, values: torch.Tensor, background: float = 1.0) -> torch.Tensor:
        """Per-pixel images ``[N, C, H, W]`` from values ``[P, C]`` of :meth:`surface`'s pixels."""
        n, _, h, w = self.mask.shape
        flat = self.mask.permute(0, 2, 3, 1).reshape(-1)
        out = torch.full((n * h * w, values.shape[1]), background, dtype=values.dtype, device=values.device)
        out[flat] = values
        return out.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()


def interpolate_vertices(fragments: Fragments, faces: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Per-pixel barycentric interpolation of a per-vertex attribute.

    Args:
        fragments: ``[N, H, W]`` visibility.
        faces: ``[F, 3]`` vertex indices.
        values: ``[V, C]`` per-vertex attribute.

    Returns:
        ``[N, C, H, W]``, 0 on background.
    """
    fid = fragments.face_id
    tri = faces[fid.clamp_min(0)]  # [N, H, W, 3]
    out = (values[tri] * fragments.bary[..., None].to(values.dtype)).sum(-2)  # [N, H, W, C]
    out = torch.where(fid[..., None] >= 0, out, torch.zeros((), dtype=out.dtype, device=out.device))
    return out.permute(0, 3, 1, 2).contiguous()


def render_geometry(mesh: MeshTensors, cameras: Cameras, backend: str = "auto") -> GeometryMaps:
    """Position, normal, coverage and depth maps of ``mesh`` seen from ``cameras`` (no supersampling).

    Args:
        mesh: the mesh in the world frame.
        cameras: N cameras.
        backend: visibility backend (see :func:`photo3d.render.rasterize`).

    Returns:
        :class:`GeometryMaps` at the cameras' resolution, on the mesh's device.
    """
    frags = rasterize(mesh, cameras, backend=backend, ssaa=1)
    pos = interpolate_vertices(frags, mesh.faces, mesh.vertices.float())
    nrm = F.normalize(interpolate_vertices(frags, mesh.faces, mesh.normals.float()), dim=1)
    mask = (frags.face_id >= 0)[:, None]
    return GeometryMaps(position=pos, normal=nrm, mask=mask, depth=frags.depth[:, None].float())


def prepare_reference(image: torch.Tensor, size: int, alpha: torch.Tensor | None = None,
                      fill: float = 0.9, background: float = 0.5) -> torch.Tensor:
    """The reference image as upstream feeds it: object cropped, scaled to 90 %, centred on grey.

    Args:
        image: ``[3, H, W]`` in [0, 1].
        size: output side (the model resolution).
        alpha: ``[1, H, W]`` coverage; default: the foreground of ``image`` on white
            (:func:`photo3d.imaging.masks.foreground_mask`, silhouette tolerance).
        fill: the longer side of the object's box becomes ``fill * size``.
        background: grey level the object is composited on (upstream 0.5).

    Returns:
        ``[3, size, size]`` in [0, 1].
    """
    from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE, foreground_mask
    from photo3d.imaging.resample import resize

    # an edited view's background may be off-white: the silhouette rule, with speck clean-up
    a = (foreground_mask(image[None], SILHOUETTE_WHITE_TOLERANCE, cleanup=1)[0].float() if alpha is None
         else alpha.float().clamp(0, 1))
    ys, xs = torch.nonzero(a[0] > 0, as_tuple=True)
    if len(ys) == 0:
        return torch.full((3, size, size), background, dtype=image.dtype, device=image.device)
    h, w = image.shape[-2:]
    y0, y1 = max(int(ys.min()) - 1, 0), min(int(ys.max()) + 2, h)
    x0, x1 = max(int(xs.min()) - 1, 0), min(int(xs.max()) + 2, w)
    crop = torch.cat([image[:, y0:y1, x0:x1], a[:, y0:y1, x0:x1]])[None]
    ch, cw = y1 - y0, x1 - x0
    scale = fill * size / max(ch, cw)
    nh, nw = max(1, int(ch * scale)), max(1, int(cw * scale))
    crop = resize(crop, (nh, nw))[0]
    out = torch.zeros(4, size, size, dtype=image.dtype, device=image.device)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[:, top:top + nh, left:left + nw] = crop
    return out[:3] * out[3:] + background * (1 - out[3:])
