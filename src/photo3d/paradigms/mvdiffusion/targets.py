"""L_real targets at the model's cameras: the edited Photo3D grid reprojected onto the Step1X-3D rig.

Rig mapping (the choice, and why). The multi-view model stays in its native rig (6 orthographic
views, ±0.55, 768²) so the pretrained weights see inputs from their own training distribution;
Photo3D-MV's edited grids come from another rig (4 perspective views, FoV 39.6°, r 1.7). Both rigs
look from the same four yaws (:mod:`.rig`), so every visible surface point of a model view is, in
general, visible in the grid view from the same direction. Each pixel of model views 0-3 takes the
colour of its surface point (position map) in the grid views that see it: projected into every
grid view, kept where the grid view's depth buffer confirms visibility, weighted by
``|n·d|^exponent`` (``d`` towards the grid camera; exponent 4 as Step1X-3D's baker) so the
most frontal view dominates. This is the baker's back-projection evaluated at pixels instead of
texels: no UV atlas, one resampling instead of two (bake to a texture, render it back), and it
works on meshes without UVs. Pixels whose total weight is below ``min_coverage`` are not
supervised; the top and bottom views (no grid counterpart) are generated but never supervised.
Targets depend only on the sample, so they are computed once per sample and cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from photo3d.cameras import Cameras
from photo3d.render import MeshTensors, rasterize
from photo3d.render.raster_setup import project_vertices

from photo3d.paradigms.mvdiffusion.conditions import GeometryMaps


@dataclass
class ViewTargets:
    """Edited colours at model views.

    Attributes:
        images: ``[V, 3, H, W]`` reprojected edited colours (white where nothing projects).
        weight: ``[V, 1, H, W]`` summed view-angle weight of the grid views that see each pixel.
        mask: ``[V, 1, H, W]`` bool, pixels to supervise (``weight >= min_coverage`` on the surface).
        silhouette: ``[V, 1, H, W]`` bool coverage of the mesh in the model views.
    """

    images: torch.Tensor
    weight: torch.Tensor
    mask: torch.Tensor
    silhouette: torch.Tensor


def project_colours(points: torch.Tensor, normals: torch.Tensor, images: torch.Tensor, cameras: Cameras,
                    depth: torch.Tensor, exponent: float = 4.0, tolerance: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour surface points from views with known depth: visibility + ``cos^exponent`` blending.

    Args:
        points, normals: ``[P, 3]`` world positions and unit normals.
        images: ``[K, 3, H, W]`` the views' colours.
        cameras: their K cameras (``H x W``).
        depth: ``[K, H, W]`` the views' depth buffers of the same surface (0 = background).
        exponent: view-angle weight exponent.
        tolerance: depth slack in world units (plus one pixel footprint) for the visibility test.

    Returns:
        ``colours [P, 3]`` (weighted mean; 1 where no view sees the point) and ``weight [P]``.
    """
    dev = points.device
    c2w = torch.from_numpy(cameras.c2w).to(dev)
    K = torch.from_numpy(cameras.K).to(dev)
    xy, z = project_vertices(points, c2w, K)  # [K, P, 2], [K, P]
    h, w = depth.shape[-2:]
    grid = torch.stack([xy[..., 0] / w * 2 - 1, xy[..., 1] / h * 2 - 1], -1)[:, :, None]  # [K, P, 1, 2]
    # nearest depth: bilinear would blend foreground and background at silhouettes
    d = F.grid_sample(depth[:, None].float(), grid, mode="nearest", align_corners=False)[:, 0, :, 0]  # [K, P]
    footprint = z / K[:, 1, 1, None].float()  # one pixel in world units at the point's depth
    inside = (grid.abs() <= 1).all(-1)[..., 0]
    seen = inside & (d > 0) & (z - d <= tolerance + 2 * footprint)
    to_cam = F.normalize(torch.from_numpy(cameras.centers).float().to(dev)[:, None] - points[None], dim=-1)
    cos = (to_cam * normals[None]).sum(-1).abs()  # two-sided: winding need not be consistent
    wk = torch.where(seen, cos**exponent, torch.zeros((), device=dev))  # [K, P]
    col = F.grid_sample(images.float(), grid, mode="bilinear", align_corners=False)[..., 0]  # [K, 3, P]
    total = wk.sum(0)
    colours = (col * wk[:, None]).sum(0).T / total.clamp_min(1e-12)[:, None]
    colours = torch.where(total[:, None] > 0, colours, torch.ones_like(colours))
    return colours, total


def reproject_targets(mesh: MeshTensors, geometry: GeometryMaps, edited: torch.Tensor, grid_cameras: Cameras,
                      exponent: float = 4.0, min_coverage: float = 0.05) -> ViewTargets:
    """The edited grid views as seen by the model views (see the module docstring).

    Args:
        mesh: the sample's mesh (world frame) on the working device.
        geometry: :func:`~.conditions.render_geometry` of the model views to supervise.
        edited: ``[K, 3, h, w]`` edited views in [0, 1] at ``grid_cameras``.
        grid_cameras: the Photo3D rig cameras of ``edited``.
        exponent: view-angle weight exponent.
        min_coverage: minimum summed weight of a supervised pixel.

    Returns:
        :class:`ViewTargets` at the model views' resolution.
    """
    grid_depth = rasterize(mesh, grid_cameras, ssaa=1).depth
    n, _, h, w = geometry.position.shape
    sil = geometry.mask
    flat = sil.permute(0, 2, 3, 1).reshape(-1)
    pts = geometry.position.permute(0, 2, 3, 1).reshape(-1, 3)[flat]
    nrm = geometry.normal.permute(0, 2, 3, 1).reshape(-1, 3)[flat]
    col, wsum = project_colours(pts, nrm, edited.to(pts.device), grid_cameras, grid_depth, exponent)
    images = torch.ones(n * h * w, 3, device=pts.device)
    weight = torch.zeros(n * h * w, device=pts.device)
    images[flat], weight[flat] = col, wsum
    images = images.view(n, h, w, 3).permute(0, 3, 1, 2).contiguous()
    weight = weight.view(n, 1, h, w)
    return ViewTargets(images=images, weight=weight, mask=sil & (weight >= min_coverage), silhouette=sil)
