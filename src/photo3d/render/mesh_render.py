"""Rendering meshes: ``rasterize`` (visibility, once per geometry) + ``shade`` (differentiable).

Typical uses::

    out = render_views(asset, rig_cameras(512), ssaa=2)   # RenderOutput, [4, 3, 512, 512]
    grid = render_grid(asset)                              # [3, 1024, 1024], the Photo3D grid

    # optimisation loop with fixed geometry: rasterize once, re-shade every step
    frags = rasterize(mesh_t, cams)
    for step in ...:
        rgb = shade(mesh_t, frags, textures=[texture_param]).rgb

Supersampling default: ``ssaa=1`` in the library (optimisation loops shade every step, and
``ssaa=2`` costs about four times as much), ``ssaa=2`` for ``photo3d render`` images, where
jagged silhouettes would be visible and the cost is paid once.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from photo3d.assets.mesh import Asset, Mesh
from photo3d.cameras import RIG_BACKGROUND, Cameras, rig_cameras
from photo3d.errors import InputError
from photo3d.grid import compose_grid
from photo3d.render.backends import get_rasterizer
from photo3d.render.base import Fragments, RenderOutput
from photo3d.render.mesh_tensors import MeshTensors
from photo3d.render.shade import shade

DEFAULT_VIEWS_PER_BATCH = 8


def as_mesh_tensors(obj: Asset | Mesh | MeshTensors, device: str | torch.device | None = None) -> MeshTensors:
    """Accept an :class:`Asset`, a numpy :class:`Mesh` or :class:`MeshTensors`; return tensors."""
    if isinstance(obj, MeshTensors):
        return obj if device is None or obj.device == torch.device(device) else obj.to(device)
    if isinstance(obj, Asset):
        obj = obj.mesh
    if isinstance(obj, Mesh):
        return MeshTensors.from_mesh(obj, device or "cpu")
    raise InputError(f"cannot render a {type(obj).__name__}; want an Asset, Mesh or MeshTensors")


def rasterize(mesh: MeshTensors, cameras: Cameras, backend: str = "auto", ssaa: int = 1) -> Fragments:
    """Visibility of ``mesh`` in every camera, at ``ssaa`` times the cameras' resolution.

    Args:
        mesh: the mesh (its device picks the backend under ``"auto"``).
        cameras: N cameras of one size ``H x W``.
        backend: ``"auto"``, ``"torch"``, ``"gl"`` or ``"nvdiffrast"``.
        ssaa: supersampling factor (>= 1).

    Returns:
        :class:`Fragments` of shape ``[N, ssaa*H, ssaa*W]`` with ``ssaa``, camera centres and (for
        orthographic cameras) viewing directions set.
    """
    if int(ssaa) < 1:
        raise InputError(f"ssaa must be >= 1, got {ssaa}")
    ssaa = int(ssaa)
    cams = cameras.resized(cameras.width * ssaa, cameras.height * ssaa) if ssaa > 1 else cameras
    device = mesh.device
    rast = get_rasterizer(backend, device)
    c2w = torch.from_numpy(cams.c2w).to(device)
    K = torch.from_numpy(cams.K).to(device)
    frags = rast.rasterize(mesh.vertices, mesh.faces, c2w, K, cams.width, cams.height, cams.near, cams.far,
                           orthographic=cams.is_orthographic)
    frags.camera_centers = torch.from_numpy(cams.centers).float().to(device)
    if cams.is_orthographic:
        frags.camera_forward = torch.from_numpy(cams.forward).float().to(device)
    frags.ssaa = ssaa
    return frags


def render_mesh(
    mesh: MeshTensors,
    cameras: Cameras,
    *,
    textures: Sequence[torch.Tensor | None] | torch.Tensor | None = None,
    background: Sequence[float] | torch.Tensor = RIG_BACKGROUND,
    backend: str = "auto",
    ssaa: int = 1,
    shading: str = "auto",
) -> RenderOutput:
    """Render ``mesh`` from all ``cameras`` in one batch (see :func:`rasterize`, :func:`shade`).

    Returns:
        :class:`RenderOutput` with ``rgb`` ``[N, 3, H, W]`` etc. at the cameras' resolution.
    """
    frags = rasterize(mesh, cameras, backend, ssaa)
    return shade(mesh, frags, textures=textures, background=background, shading=shading)


def render_views(
    asset_or_mesh: Asset | Mesh | MeshTensors,
    cameras: Cameras,
    *,
    device: str | torch.device | None = None,
    views_per_batch: int = DEFAULT_VIEWS_PER_BATCH,
    **kw,
) -> RenderOutput:
    """Render any mesh-like object from ``cameras``, ``views_per_batch`` views at a time.

    Args:
        asset_or_mesh: :class:`Asset`, :class:`Mesh` or :class:`MeshTensors`.
        cameras: N cameras.
        device: where to render (default: the mesh tensors' device, or CPU).
        views_per_batch: bounds memory when rendering many views.
        **kw: forwarded to :func:`render_mesh` (``textures``, ``background``, ``backend``,
            ``ssaa``, ``shading``).

    Returns:
        :class:`RenderOutput` over all N views.
    """
    mesh = as_mesh_tensors(asset_or_mesh, device)
    outs = [render_mesh(mesh, cameras[i:i + views_per_batch], **kw) for i in range(0, len(cameras), views_per_batch)]
    if len(outs) == 1:
        return outs[0]
    cat = lambda name: None if getattr(outs[0], name) is None else torch.cat([getattr(o, name) for o in outs])
    return RenderOutput(**{name: cat(name) for name in ("rgb", "alpha", "depth", "normals", "uv", "face_id")})


def render_grid(
    asset_or_mesh: Asset | Mesh | MeshTensors,
    resolution: int = 512,
    background: Sequence[float] = RIG_BACKGROUND,
    *,
    with_alpha: bool = False,
    **kw,
) -> torch.Tensor:
    """The Photo3D rig's 2x2 grid (TL yaw 0, TR 90, BL 180 = front, BR 270).

    Args:
        asset_or_mesh: what to render.
        resolution: pixels per view side; the grid is twice that.
        background: RGB in [0, 1].
        with_alpha: append the coverage as a 4th channel.
        **kw: forwarded to :func:`render_views` (``backend``, ``ssaa``, ``shading``, ``device``...).

    Returns:
        ``[3, 2R, 2R]`` (or ``[4, 2R, 2R]``) float image in [0, 1].
    """
    out = render_views(asset_or_mesh, rig_cameras(resolution), background=background, **kw)
    views = torch.cat([out.rgb, out.alpha], 1) if with_alpha else out.rgb
    return compose_grid(views)
