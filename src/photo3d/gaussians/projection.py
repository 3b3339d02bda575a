"""EWA projection of 3D Gaussians into pinhole or orthographic cameras (Zwicker et al. 2002; Kerbl et al. 2023).

Conventions follow :mod:`photo3d.cameras`: OpenCV cameras (x right, y down, z forward), pixel
(row i, col j) centred at ``(j + 0.5, i + 0.5)`` in the frame ``K`` maps to, depth = camera z.

The projected 2D covariance is ``J W Σ W^T J^T + eps2d · I`` with ``J`` the Jacobian of the
perspective projection at the Gaussian's centre (for orthographic cameras the projection is
linear and ``J = [[fx, 0, 0], [0, fy, 0]]`` exactly, so the splat is exact, not a local
approximation). ``eps2d`` is the screen-space low-pass filter:

* ``eps2d=0.3``, ``antialiased=False``: the classic 3DGS dilation (default here, as in gsplat's
  ``rasterize_mode="classic"``).
* ``eps2d=0.1``, ``antialiased=True``: TRELLIS's renderer (``kernel_size 0.1`` with the
  Mip-Splatting 2D filter), where the opacity is scaled by ``sqrt(det Σ2d / det(Σ2d + eps2d I))``
  so that small Gaussians do not brighten when dilated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from photo3d.gaussians.model import Gaussians, covariance_3d

ALPHA_MIN = 1.0 / 255.0  # contributions below this are dropped (as in the 3DGS rasterizer)
ALPHA_MAX = 0.99  # keeps 1 - alpha > 0 so transmittance stays invertible and log-safe


@dataclass
class Projected:
    """Screen-space Gaussians for N cameras (every tensor has leading dims ``[N, G]``).

    Attributes:
        means2d: ``[N, G, 2]`` pixel coordinates (x right, y down).
        conics: ``[N, G, 3]`` upper triangle (a, b, c) of the inverse 2D covariance.
        opacities: ``[N, G]`` opacity after the optional anti-aliasing compensation.
        depths: ``[N, G]`` camera-space z.
        extents: ``[N, G, 2]`` half width / height in pixels of the region where alpha >= 1/255.
        valid: ``[N, G]`` bool, in front of the near plane, before the far plane, with alpha
            able to reach 1/255 (everything else is culled).
    """

    means2d: torch.Tensor
    conics: torch.Tensor
    opacities: torch.Tensor
    depths: torch.Tensor
    extents: torch.Tensor
    valid: torch.Tensor


def project_gaussians(
    gaussians: Gaussians,
    w2c: torch.Tensor,  # [N, 4, 4] world-to-camera (OpenCV)
    K: torch.Tensor,  # [N, 3, 3]
    width: int,
    height: int,
    near: float = 0.05,
    far: float = 100.0,
    eps2d: float = 0.3,
    antialiased: bool = False,
    orthographic: bool = False,
) -> Projected:
    """Project G Gaussians into N cameras; differentiable in every Gaussian parameter.

    Args:
        gaussians: the Gaussians (raw parameters).
        w2c: ``[N, 4, 4]`` world-to-camera matrices, same dtype/device as the Gaussians.
        K: ``[N, 3, 3]`` intrinsics in pixels.
        width, height: image size in pixels.
        near, far: clipping distances along camera z.
        eps2d: screen-space low-pass variance in pixels² (see the module docstring).
        antialiased: scale opacities to compensate the filter (Mip-Splatting / TRELLIS).
        orthographic: parallel projection (``K`` in pixels per world unit).

    Returns:
        :class:`Projected` with leading dims ``[N, G]``.
    """
    R, t = w2c[:, :3, :3], w2c[:, :3, 3]
    p = torch.einsum("nij,gj->ngi", R, gaussians.means) + t[:, None, :]  # [N, G, 3]
    z = p[..., 2]
    valid = (z > near) & (z < far)
    zs = torch.where(valid, z, torch.ones_like(z))  # keep culled entries finite (their grads are masked)
    fx, fy = K[:, 0, 0, None], K[:, 1, 1, None]
    cx, cy = K[:, 0, 2, None], K[:, 1, 2, None]
    zero = torch.zeros_like(zs)
    if orthographic:
        J = torch.stack([torch.stack([fx + zero, zero, zero], -1), torch.stack([zero, fy + zero, zero], -1)], -2)
        means2d = torch.stack([fx * p[..., 0] + cx, fy * p[..., 1] + cy], dim=-1)
    else:
        # Clamp the Jacobian's evaluation point to 1.3x the frustum (as 3DGS does): off-screen
        # Gaussians would otherwise get huge, unstable footprints.
        lim_x = 1.3 * 0.5 * width / fx
        lim_y = 1.3 * 0.5 * height / fy
        tx = torch.maximum(torch.minimum(p[..., 0] / zs, lim_x), -lim_x) * zs
        ty = torch.maximum(torch.minimum(p[..., 1] / zs, lim_y), -lim_y) * zs
        J = torch.stack([
            torch.stack([fx / zs, zero, -fx * tx / zs**2], -1),
            torch.stack([zero, fy / zs, -fy * ty / zs**2], -1),
        ], -2)  # [N, G, 2, 3]
        means2d = torch.stack([fx * p[..., 0] / zs + cx, fy * p[..., 1] / zs + cy], dim=-1)
    cov_w = covariance_3d(gaussians.log_scales, gaussians.quats)  # [G, 3, 3]
    cov_c = R[:, None] @ cov_w[None] @ R[:, None].transpose(-1, -2)  # [N, G, 3, 3]
    cov2 = J @ cov_c @ J.transpose(-1, -2)
    a, b, c = cov2[..., 0, 0], cov2[..., 0, 1], cov2[..., 1, 1]
    det0 = a * c - b * b
    a, c = a + eps2d, c + eps2d
    det = a * c - b * b
    opac = gaussians.opacities.expand_as(z)
    if antialiased:
        opac = opac * torch.sqrt(torch.clamp(det0 / det, min=0.0))
    valid = valid & (det > 0)
    det = torch.where(valid, det, torch.ones_like(det))
    conics = torch.stack([c / det, -b / det, a / det], dim=-1)
    # alpha = o * exp(-q/2) >= 1/255  <=>  q <= 2 ln(255 o): an exact, opacity-aware cut-off
    # (<= 3.33 sigma for o = 1) instead of the fixed 3 sigma, so culling never changes the image.
    with torch.no_grad():
        q_max = 2.0 * torch.log(torch.clamp(opac * 255.0, min=1e-12))
        valid = valid & (q_max > 0) & (opac.detach() >= ALPHA_MIN)
        k = torch.sqrt(torch.clamp(q_max, min=0.0))
        extents = torch.stack([k * torch.sqrt(a.clamp(min=0)), k * torch.sqrt(c.clamp(min=0))], -1)
        off = ((means2d[..., 0] + extents[..., 0] < 0) | (means2d[..., 0] - extents[..., 0] > width)
               | (means2d[..., 1] + extents[..., 1] < 0) | (means2d[..., 1] - extents[..., 1] > height))
        valid = valid & ~off & torch.isfinite(means2d).all(-1)
    return Projected(means2d, conics, opac, z, extents, valid)

