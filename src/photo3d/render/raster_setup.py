"""Projection and triangle set-up shared by the visibility backends.

Every backend agrees on one screen-space model so their outputs can be compared pixel by pixel:

* A point ``X`` in camera space (OpenCV: x right, y down, z forward) lands at pixel coordinates
  ``(u, v) = (fx X/Z + cx, fy Y/Z + cy)`` (perspective) or ``(fx X + cx, fy Y + cy)``
  (orthographic); pixel (row i, col j) is sampled at its centre ``(j + 0.5, i + 0.5)``.
* Edge functions are evaluated the same way for both triangles that share an edge: the edge is
  always walked from its lower vertex index to its higher one, and a triangle's sign is applied by
  an exact negation. Shared edges therefore never produce holes or double coverage. A pixel centre
  exactly on an edge belongs to the triangle whose interior lies to its right, or below it for a
  horizontal edge (the Direct3D/OpenGL "top-left" rule in image coordinates).
* Barycentrics are ``b_k = e_k w_k / sum_j e_j w_j`` where ``e_k`` are the screen-space edge
  functions and ``w_k = 1 / z_k`` (perspective-correct) or ``w_k = 1`` (orthographic: screen
  space is affine in world space); depth is the camera-space z interpolated with them,
  ``sum b_k z_k = sum e_k (w_k z_k) / sum e_k w_k``. The table stores ``w_k z_k``, which is
  exactly 1 for perspective views, so their depth is ``sum e / sum (e / z)`` bit for bit.
* Near plane: faces with any vertex closer than ``near`` are skipped, not clipped (the Photo3D rig
  never brings geometry that close; a clipped triangle would need new vertices); faces entirely
  beyond ``far`` are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Indices of the per-face parameter table (one row per (view, face)).
# ax, ay: edge start; dx, dy: edge direction with the inside sign folded in; iz: the barycentric
# weight w_k (1 / z_k, or 1 when orthographic); thr: 0 where a pixel exactly on the edge counts as
# inside (top-left rule), else the smallest normal float so that "e >= thr" means "e > 0";
# wz: w_k z_k (1 when perspective, z_k when orthographic).
AX, AY, DX, DY, IZ, THR, WZ = 0, 3, 6, 9, 12, 15, 18
NUM_PARAMS = 21


def project_vertices(vertices: torch.Tensor, c2w: torch.Tensor, K: torch.Tensor,
                     orthographic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """World points to pixel coordinates and camera depth.

    Args:
        vertices: ``[V, 3]`` world positions.
        c2w: ``[N, 4, 4]`` OpenCV camera-to-world matrices.
        K: ``[N, 3, 3]`` intrinsics (pixels per world unit when ``orthographic``).
        orthographic: parallel projection ``(fx X + cx, fy Y + cy)`` instead of the pinhole one.

    Returns:
        ``xy`` ``[N, V, 2]`` float32 pixel coordinates and ``z`` ``[N, V]`` float32 camera depth.
    """
    w2c = torch.linalg.inv(c2w.double())
    R, t = w2c[:, :3, :3].float(), w2c[:, :3, 3].float()
    cam = torch.einsum("nij,vj->nvi", R, vertices.float()) + t[:, None, :]
    z = cam[..., 2]
    Kf = K.float()
    # w = z (perspective) or 1 (orthographic); the divisions keep the float ops of the pinhole case.
    zs = torch.where(z.abs() > 1e-12, z, torch.full_like(z, 1e-12)) if not orthographic else torch.ones_like(z)
    x = Kf[:, 0, 0, None] * cam[..., 0] / zs + Kf[:, 0, 2, None] + Kf[:, 0, 1, None] * cam[..., 1] / zs
    y = Kf[:, 1, 1, None] * cam[..., 1] / zs + Kf[:, 1, 2, None]
    return torch.stack([x, y], -1), z


@dataclass
class FaceSetup:
    """Per-(view, face) rasterisation data.

    Attributes:
        params: ``[N * F, 18]`` float32 edge/depth parameters (see module constants).
        valid: ``[N * F]`` bool, False for faces skipped (near plane, off-screen, degenerate).
        x0, y0: ``[N * F]`` int64 first pixel column / row of the clipped bounding box.
        bw, bh: ``[N * F]`` int64 bounding-box width / height in pixels (0 when invalid).
    """

    params: torch.Tensor
    valid: torch.Tensor
    x0: torch.Tensor
    y0: torch.Tensor
    bw: torch.Tensor
    bh: torch.Tensor


def setup_faces(xy: torch.Tensor, z: torch.Tensor, faces: torch.Tensor, width: int, height: int,
                near: float, far: float, orthographic: bool = False) -> FaceSetup:
    """Edge functions, inside signs, tie thresholds and bounding boxes of every face in every view.

    Args:
        xy: ``[N, V, 2]`` pixel coordinates; z: ``[N, V]`` camera depths.
        faces: ``[F, 3]`` int64.
        orthographic: barycentrics affine in screen space (no perspective correction).
    """
    n, f = xy.shape[0], faces.shape[0]
    # Bary k is the edge function of the edge opposite vertex k: (v[k+1], v[k+2]).
    ea, eb = faces[:, [1, 2, 0]], faces[:, [2, 0, 1]]
    lo, hi = torch.minimum(ea, eb), torch.maximum(ea, eb)
    sigma = torch.where(ea < eb, 1.0, -1.0).to(xy.dtype)  # canonical -> triangle orientation
    a, b = xy[:, lo], xy[:, hi]  # [N, F, 3, 2]
    d = b - a
    tri = xy[:, faces]  # [N, F, 3, 2]
    tz = z[:, faces]  # [N, F, 3]
    # Twice the signed area from the edge opposite v0 evaluated at v0 (canonical form * sigma).
    area = sigma[:, 0] * ((tri[..., 0, 0] - a[..., 0, 0]) * d[..., 0, 1] - (tri[..., 0, 1] - a[..., 0, 1]) * d[..., 0, 0])
    inside_sign = sigma * torch.sign(area)[..., None]  # [N, F, 3]: +1 where canonical e > 0 is inside
    dx, dy = d[..., 0] * inside_sign, d[..., 1] * inside_sign
    # Inward normal of the edge is (dy, -dx): a tie counts when it points right, or down if vertical 0.
    tie = (dy > 0) | ((dy == 0) & (dx < 0))
    thr = torch.where(tie, 0.0, torch.finfo(torch.float32).tiny).to(xy.dtype)
    if orthographic:
        iz, wz = torch.ones_like(tz), tz
    else:
        iz, wz = 1.0 / tz.clamp_min(1e-12), torch.ones_like(tz)
    params = torch.cat([a[..., 0], a[..., 1], dx, dy, iz, thr, wz], -1).reshape(n * f, NUM_PARAMS).contiguous()

    lo_xy, hi_xy = tri.amin(2), tri.amax(2)  # [N, F, 2]
    x0 = torch.ceil(lo_xy[..., 0] - 0.5).clamp(0, width)
    x1 = torch.floor(hi_xy[..., 0] - 0.5).clamp(-1, width - 1)
    y0 = torch.ceil(lo_xy[..., 1] - 0.5).clamp(0, height)
    y1 = torch.floor(hi_xy[..., 1] - 0.5).clamp(-1, height - 1)
    valid = (tz > near).all(-1) & (tz < far).any(-1) & (area.abs() > 1e-10) & (x1 >= x0) & (y1 >= y0)
    valid &= torch.isfinite(lo_xy).all(-1) & torch.isfinite(hi_xy).all(-1)
    bw = torch.where(valid, x1 - x0 + 1, 0).long().reshape(-1)
    bh = torch.where(valid, y1 - y0 + 1, 0).long().reshape(-1)
    return FaceSetup(params, valid.reshape(-1), x0.long().reshape(-1), y0.long().reshape(-1), bw, bh)


def edge_values(params: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> list[torch.Tensor]:
    """The three inside-signed edge functions ``e_k`` at pixel centres (same float ops everywhere).

    Args:
        params: ``[P, 18]`` rows of :attr:`FaceSetup.params`.
        px, py: ``[P]`` pixel-centre coordinates.
    """
    return [(px - params[:, AX + k]) * params[:, DY + k] - (py - params[:, AY + k]) * params[:, DX + k]
            for k in range(3)]


def bary_from_face_ids(params: torch.Tensor, face_id: torch.Tensor, num_faces: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Barycentrics (perspective-correct where the views are) and depth at pixels of visible faces.

    Args:
        params: ``[N * F, 18]`` from :func:`setup_faces`.
        face_id: ``[N, H, W]`` int64 visible face per pixel, -1 for background.
        num_faces: F.

    Returns:
        ``bary`` ``[N, H, W, 3]`` and ``depth`` ``[N, H, W]`` float32 (0 on background).
    """
    n, h, w = face_id.shape
    flat = face_id.reshape(-1)
    pix = torch.nonzero(flat >= 0).squeeze(1)
    view = torch.div(pix, h * w, rounding_mode="floor")
    rem = pix - view * (h * w)
    py = torch.div(rem, w, rounding_mode="floor")
    px = rem - py * w
    rows = params.index_select(0, view * num_faces + flat[pix])
    e = edge_values(rows, px.to(params.dtype) + 0.5, py.to(params.dtype) + 0.5)
    ez = torch.stack([e[k] * rows[:, IZ + k] for k in range(3)], -1)
    den = ez.sum(-1, keepdim=True)
    den = torch.where(den.abs() > 0, den, torch.ones_like(den))
    bary_p = (ez / den).clamp(0, 1)
    bary_p = bary_p / bary_p.sum(-1, keepdim=True).clamp_min(1e-12)
    depth_p = (e[0] * rows[:, WZ] + e[1] * rows[:, WZ + 1] + e[2] * rows[:, WZ + 2]) / den.squeeze(1)
    bary = torch.zeros(n * h * w, 3, dtype=torch.float32, device=face_id.device)
    depth = torch.zeros(n * h * w, dtype=torch.float32, device=face_id.device)
    bary[pix] = bary_p.float()
    depth[pix] = depth_p.float()
    return bary.reshape(n, h, w, 3), depth.reshape(n, h, w)


def clip_matrices(c2w: torch.Tensor, K: torch.Tensor, width: int, height: int, near: float, far: float,
                  orthographic: bool = False) -> torch.Tensor:
    """``[N, 4, 4]`` world -> OpenGL clip matrices reproducing :func:`project_vertices`.

    ``y_ndc = 2 v / H - 1`` (not flipped), so row 0 of a GL framebuffer read-back (the bottom row
    in GL terms) is image row 0; the handedness flip does not matter as nothing is culled.
    Orthographic views get ``w = 1`` and a depth linear in z between ``near`` and ``far``.
    """
    w2c = torch.linalg.inv(c2w.double())
    Kd = K.double()
    P = torch.zeros(len(K), 4, 4, dtype=torch.float64, device=K.device)
    P[:, 0, 0] = 2 * Kd[:, 0, 0] / width
    P[:, 0, 1] = 2 * Kd[:, 0, 1] / width
    P[:, 1, 1] = 2 * Kd[:, 1, 1] / height
    # The principal point sits in the column that multiplies w: z for perspective, 1 for ortho.
    c = 3 if orthographic else 2
    P[:, 0, c] = 2 * Kd[:, 0, 2] / width - 1
    P[:, 1, c] = 2 * Kd[:, 1, 2] / height - 1
    if orthographic:
        P[:, 2, 2] = 2 / (far - near)
        P[:, 2, 3] = -(far + near) / (far - near)
        P[:, 3, 3] = 1.0
    else:
        P[:, 2, 2] = (far + near) / (far - near)
        P[:, 2, 3] = -2 * far * near / (far - near)
        P[:, 3, 2] = 1.0
    return P @ w2c
