"""L_real targets at the model's cameras: the edited Photo3D grid reprojected onto the Step1X-3D rig.

Rig mapping (the choice, and why). The multi-view model stays in its native rig (6 orthographic
views, ±0.55, 768²) so the pretrained weights see inputs from their own training distribution;
Photo3D-MV's edited grids come from another rig (4 perspective views, FoV 39.6°, r 1.7). Both rigs
look from the same four yaws (:mod:`.rig`), so every visible surface point of a model view is, in
general, visible in the grid view from the same direction. Each pixel of model views 0-3 takes the
colour of its surface point (position map) in the grid views that see it: the baker's back-projection
(:func:`photo3d.bake.project_views`: rasteriser visibility, reliable pixels away from silhouettes,
``|n·d|^4`` view-angle weights as Step1X-3D's baker) evaluated at those pixels' surface points
instead of at texels. No UV atlas is needed, and there is one resampling instead of two (bake to
a texture, render it back). Pixels whose total weight is below ``min_coverage`` are not
supervised; the top and bottom views (no grid counterpart) are generated but never supervised.
Targets depend only on the sample, so they are computed once per sample and cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from photo3d.assets.mesh import Mesh
from photo3d.bake import project_views
from photo3d.cameras import Cameras
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


def reproject_targets(mesh: Mesh, geometry: GeometryMaps, edited: torch.Tensor, grid_cameras: Cameras,
                      exponent: float = 4.0, min_coverage: float = 0.05) -> ViewTargets:
    """The edited grid views as seen by the model views (see the module docstring).

    Args:
        mesh: the sample's mesh (world frame).
        geometry: :func:`~.conditions.render_geometry` of the model views to supervise.
        edited: ``[K, 3, h, w]`` edited views in [0, 1] at ``grid_cameras``.
        grid_cameras: the Photo3D rig cameras of ``edited``.
        exponent: view-angle weight exponent.
        min_coverage: minimum summed weight of a supervised pixel.

    Returns:
        :class:`ViewTargets` at the model views' resolution.
    """
    pts, nrm = geometry.surface()
    col, wsum = project_views(mesh, pts, nrm, edited.to(pts.device), grid_cameras, exponent=exponent)
    images = geometry.paint(torch.where(wsum[:, None] > 0, col, torch.ones_like(col)))
    weight = geometry.paint(wsum[:, None], background=0.0)
    sil = geometry.mask
    return ViewTargets(images=images, weight=weight, mask=sil & (weight >= min_coverage), silhouette=sil)
