"""3D Gaussians: the parameter container, ``.ply`` I/O, projection and the tiled rasterizer.

Rendering goes through :func:`photo3d.render.gaussians.render_gaussians`.
"""

from photo3d.gaussians.model import SH_C0, Gaussians, covariance_3d, quat_to_rotmat
from photo3d.gaussians.ply import load_ply, save_ply

__all__ = ["SH_C0", "Gaussians", "covariance_3d", "load_ply", "quat_to_rotmat", "save_ply"]
