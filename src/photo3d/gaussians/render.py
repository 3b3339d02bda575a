"""Differentiable 3D Gaussian splatting behind the :class:`~photo3d.render.base.RenderOutput` interface.

Two backends, same conventions (:mod:`photo3d.cameras`: OpenCV cameras, TRELLIS world frame,
perspective or orthographic):

* ``"torch"``: pure PyTorch, tiled and memory-bounded (:mod:`photo3d.gaussians.raster`), runs
  on CPU and GPU, differentiable in means, scales, rotations, opacities and colours.
* ``"gsplat"``: ``gsplat.rasterization`` on CUDA (optional dependency, imported lazily).

``backend="auto"`` picks gsplat for CUDA tensors when it is installed, else the torch backend
(:func:`photo3d.render.resolve_backend`, the one backend chooser of mesh and Gaussian rendering).

Filtering: ``eps2d=0.3`` (classic 3DGS low-pass, the default) or ``eps2d=0.1,
antialiased=True`` (TRELLIS's 0.1 2D filter with Mip-Splatting opacity compensation; the
renderer the Photo3D grids were made with). See :mod:`photo3d.gaussians.projection`.

Example:
    >>> from photo3d.cameras import rig_cameras
    >>> out = render_gaussians(gaussians, rig_cameras(128))   # doctest: +SKIP
    >>> out.rgb.shape                                          # [4, 3, 128, 128]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

from photo3d._optional import require
from photo3d.cameras import RIG_BACKGROUND, Cameras, rig_cameras
from photo3d.gaussians.model import Gaussians
from photo3d.gaussians.projection import project_gaussians
from photo3d.gaussians.raster import TILE, composite, plan_tiles
from photo3d.grid import compose_grid
from photo3d.render.backends import resolve_backend
from photo3d.render.base import RenderOutput

Backend = Literal["auto", "torch", "gsplat"]

def render_gaussians(
    gaussians: Gaussians,
    cameras: Cameras,
    background: Sequence[float] = RIG_BACKGROUND,
    backend: Backend = "auto",
    eps2d: float = 0.3,
    antialiased: bool = False,
    chunk: int = 32,
    budget: int = 1 << 22,
    t_min: float = 1e-4,
) -> RenderOutput:
    """Render G Gaussians into N cameras.

    Args:
        gaussians: the Gaussians; their dtype and device are used for the render.
        cameras: N cameras of one size (``c2w`` OpenCV, ``K`` in pixels).
        background: RGB behind the Gaussians (the rig's is white).
        backend: ``"auto"``, ``"torch"`` or ``"gsplat"``.
        eps2d: screen-space low-pass variance (pixels²).
        antialiased: Mip-Splatting opacity compensation of the low-pass filter.
        chunk, budget, t_min: torch-backend tuning (see :func:`photo3d.gaussians.raster.composite`).

    Returns:
        :class:`RenderOutput` with ``rgb [N,3,H,W]`` (over ``background``), ``alpha [N,1,H,W]``
        and ``depth [N,1,H,W]`` (alpha-normalised expected camera z, 0 where alpha ~ 0).
    """
    dev, dtype = gaussians.means.device, gaussians.means.dtype
    w2c = torch.as_tensor(cameras.w2c, dtype=dtype, device=dev)
    K = torch.as_tensor(cameras.K, dtype=dtype, device=dev)
    bg = torch.as_tensor(background, dtype=dtype, device=dev)
    if resolve_backend(backend, dev, "gaussians") == "gsplat":
        return _render_gsplat(gaussians, w2c, K, cameras, bg, eps2d, antialiased)
    W, H, n = cameras.width, cameras.height, len(cameras)
    proj = project_gaussians(gaussians, w2c, K, W, H, cameras.near, cameras.far, eps2d, antialiased,
                             orthographic=cameras.is_orthographic)
    cam_id, gid = torch.nonzero(proj.valid, as_tuple=True)
    means2d = proj.means2d[cam_id, gid]
    depths = proj.depths[cam_id, gid]
    ones = torch.ones_like(depths)
    feats = torch.cat([gaussians.colors[gid], depths[:, None], ones[:, None]], dim=1)  # rgb, z, 1
    plan = plan_tiles(means2d.detach(), proj.extents[cam_id, gid], depths.detach(), cam_id, n, W, H, TILE)
    img = composite(means2d, proj.conics[cam_id, gid], proj.opacities[cam_id, gid], feats, plan,
                    chunk=chunk, budget=budget, t_min=t_min)[..., :H, :W]
    alpha = img[:, 4:5].clamp(0.0, 1.0)
    rgb = img[:, :3] + (1.0 - alpha) * bg.view(1, 3, 1, 1)
    depth = torch.where(alpha > 1e-6, img[:, 3:4] / alpha.clamp(min=1e-6), torch.zeros_like(alpha))
    return RenderOutput(rgb=rgb, alpha=alpha, depth=depth)


def _render_gsplat(gaussians: Gaussians, w2c: torch.Tensor, K: torch.Tensor, cameras: Cameras,
                   bg: torch.Tensor, eps2d: float, antialiased: bool) -> RenderOutput:
    """CUDA rendering through ``gsplat.rasterization`` (viewmats are world-to-camera)."""
    gsplat = require("gsplat", "CUDA Gaussian splatting")
    colors, alphas, _meta = gsplat.rasterization(
        means=gaussians.means,
        quats=gaussians.unit_quats,  # gsplat also uses wxyz
        scales=gaussians.scales,
        opacities=gaussians.opacities,
        colors=gaussians.colors,
        viewmats=w2c,
        Ks=K,
        width=cameras.width,
        height=cameras.height,
        near_plane=cameras.near,
        far_plane=cameras.far,
        eps2d=eps2d,
        render_mode="RGB+ED",
        rasterize_mode="antialiased" if antialiased else "classic",
        camera_model="ortho" if cameras.is_orthographic else "pinhole",
    )
    alpha = alphas.permute(0, 3, 1, 2)
    rgb = colors[..., :3].permute(0, 3, 1, 2) + (1.0 - alpha) * bg.view(1, 3, 1, 1)
    depth = colors[..., 3:4].permute(0, 3, 1, 2) * (alpha > 1e-6)
    return RenderOutput(rgb=rgb, alpha=alpha, depth=depth)


def render_gaussian_rgb(gaussians: Gaussians, cameras: Cameras, **kwargs) -> torch.Tensor:
    """``[N, 3, H, W]`` RGB in [0, 1] for training losses, rasterised in fp32 even under autocast.

    Depth sorting and transmittance products lose too much in bf16, so a bf16-autocast training
    step still splats in fp32; ``kwargs`` go to :func:`render_gaussians`.
    """
    with torch.autocast(gaussians.means.device.type, enabled=False):
        out = render_gaussians(gaussians.map(lambda x: x.float()), cameras, **kwargs)
    return out.rgb.clamp(0.0, 1.0)


def render_gaussian_grid(gaussians: Gaussians, resolution: int = 512, background: Sequence[float] = RIG_BACKGROUND,
                         backend: Backend = "auto", **kwargs) -> torch.Tensor:
    """The Photo3D rig's 2x2 grid of ``gaussians``: ``[3, 2*resolution, 2*resolution]`` in [0, 1].

    Views in grid order (TL yaw 0, TR 90, BL 180, BR 270); ``kwargs`` go to :func:`render_gaussians`.
    """
    out = render_gaussians(gaussians, rig_cameras(resolution), background, backend, **kwargs)
    return compose_grid(out.rgb.clamp(0.0, 1.0))
