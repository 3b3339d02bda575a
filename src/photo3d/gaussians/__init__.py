"""3D Gaussians, in one package: the parameter container, ``.ply`` I/O, EWA projection, the tiled
rasteriser and the front door :func:`render_gaussians` (torch, or gsplat on CUDA).

Also reachable as ``photo3d.render.render_gaussians`` / ``render_gaussian_grid``.
"""

from photo3d.gaussians.model import SH_C0, Gaussians, covariance_3d, quat_to_rotmat
from photo3d.gaussians.ply import load_ply, save_ply
from photo3d.gaussians.render import render_gaussian_grid, render_gaussians

__all__ = ["SH_C0", "Gaussians", "covariance_3d", "load_ply", "quat_to_rotmat", "render_gaussian_grid",
           "render_gaussians", "save_ply"]
