"""Back-projecting views onto a UV atlas: texel-space visibility, view-angle weights, blending.

For every texel on the atlas (:mod:`photo3d.bake.texels`) and every view:

1. project the texel's surface point into the view (:func:`photo3d.render.raster_setup.project_vertices`,
   perspective or orthographic);
2. it is *visible* when our rasteriser's depth at that pixel is the point's own depth (within
   about two pixel footprints, more at grazing angles) and the pixel is *reliable*: inside the
   silhouette by ``edge_margin`` pixels and as far from depth discontinuities (generated views
   blur there, and a pixel there may show the background or the occluder);
3. its colour is the view bilinearly sampled there, with weight
   ``view_weight * |n . v|^exponent`` (``n`` the smooth surface normal, ``v`` the direction
   to the camera), zero below ``min_cos``.

Each texel takes the weighted mean over the views; texels no view saw and the gutters between
charts are filled by :mod:`photo3d.bake.inpaint`. The per-point core, :func:`project_views`,
works at any surface points (e.g. the pixels of another rig, to re-project views between rigs). Defaults follow Step1X-3D's baker: cos^4
weights, a 75 degree angle cut-off and a silhouette margin of 2 pixels per 512. Unlike it, colours
are gathered per texel rather than splatted per pixel, so views coarser than the texture leave
no holes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from photo3d.assets.mesh import Asset, Mesh
from photo3d.bake.inpaint import fill_unseen
from photo3d.bake.texels import TexelSurface, baking_mesh, texel_surface
from photo3d.cameras import Cameras
from photo3d.errors import InputError
from photo3d.imaging.morphology import dilate, erode

MIN_COS = math.cos(math.radians(75.0))  # Step1X-3D's bake_angle_thres
DEPTH_JUMP = 10.0  # a 3x3 depth range beyond this many pixel footprints is a discontinuity


@dataclass
class BakeResult:
    """A baked (or fitted) texture and where it came from.

    Attributes:
        texture: ``[C, T, T]`` float in [0, 1]; every texel set (unseen ones inpainted).
        seen: ``[T, T]`` bool, texels some view determined.
        covered: ``[T, T]`` bool, texels on the atlas charts.
        weight: ``[T, T]`` total blend weight per texel (0 where unseen).
        stats: numbers for records (seen fraction, per-view coverage, seconds...).
        history: per-step losses of a fit (empty for a bake).
    """

    texture: torch.Tensor
    seen: torch.Tensor
    covered: torch.Tensor
    weight: torch.Tensor
    stats: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)


def bake_views(asset: Asset | Mesh, images: torch.Tensor, cameras: Cameras, texture_size: int = 1024,
               view_weights: Sequence[float] | None = None, exponent: float = 4.0, **options) -> torch.Tensor:
    """Back-project ``images`` seen by ``cameras`` onto ``asset``'s UV atlas.

    Args:
        asset: an asset (or mesh) with one UV atlas (e.g. from :func:`photo3d.assets.single_atlas`),
            in the world frame the cameras look at.
        images: ``[V, C, H, W]`` views in [0, 1] (white background for RGB).
        cameras: the V cameras (perspective or orthographic); resized to ``W x H`` if needed.
        texture_size: atlas side T in texels.
        view_weights: per-view blend weights (default all 1; Step1X-3D: ``[1, .1, .5, .1, .05, .05]``).
        exponent: view-angle weight ``|n . v|^exponent``.
        **options: see :func:`bake_views_result` (``min_cos``, ``edge_margin``, ``backend``...).

    Returns:
        ``[C, T, T]`` texture in [0, 1].
    """
    return bake_views_result(asset, images, cameras, texture_size, view_weights, exponent, **options).texture


def bake_views_result(
    asset: Asset | Mesh,
    images: torch.Tensor,
    cameras: Cameras,
    texture_size: int = 1024,
    view_weights: Sequence[float] | None = None,
    exponent: float = 4.0,
    *,
    min_cos: float = MIN_COS,
    edge_margin: int | None = None,
    backend: str = "auto",
    fill: bool = True,
    surface: TexelSurface | None = None,
    progress: bool = False,
) -> BakeResult:
    """:func:`bake_views` with masks and statistics.

    Args:
        asset, images, cameras, texture_size, view_weights, exponent: as :func:`bake_views`.
        min_cos: texels seen more obliquely than ``acos(min_cos)`` get no colour from that view.
        edge_margin: pixels dropped along silhouettes and depth discontinuities (default
            ``max(1, round(2 H / 512))``).
        backend: visibility backend (``auto``, ``torch``, ``gl``, ``nvdiffrast``).
        fill: inpaint unseen texels and gutters (else they stay 0).
        surface: a precomputed :func:`~photo3d.bake.texels.texel_surface` of the same atlas.
        progress: show a progress bar over the views.

    Returns:
        :class:`BakeResult`.
    """
    t0 = time.perf_counter()
    mesh = baking_mesh(asset, "bake_views")
    images, cameras, weights = _check_inputs(images, cameras, view_weights, exponent)
    device = images.device
    surface = surface if surface is not None else texel_surface(mesh, texture_size, device)
    if surface.size != texture_size:
        raise InputError(f"the texel surface is {surface.size}² but texture_size is {texture_size}")
    colours, den = _project(mesh, surface.points, surface.normals, images, cameras, weights, exponent, min_cos,
                            edge_margin, backend, progress)
    t, c = texture_size, images.shape[1]
    seen_p = den > 0
    flat = torch.zeros(t * t, c, dtype=torch.float32, device=device)
    flat[surface.index[seen_p]] = colours[seen_p]
    weight = torch.zeros(t * t, dtype=torch.float32, device=device).index_put_((surface.index,), den).view(t, t)
    texture = flat.T.reshape(c, t, t).clamp(0.0, 1.0)
    seen = weight > 0
    if fill:
        texture = fill_unseen(mesh, surface, texture, seen).clamp(0.0, 1.0)
    covered = torch.as_tensor(surface.covered, device=device)
    stats = {"texture_size": t, "views": len(cameras), "view_weights": [float(x) for x in weights],
             "exponent": float(exponent), "min_cos": round(float(min_cos), 4),
             "edge_margin_px": _margin(edge_margin, cameras.height),
             "covered_texels": round(float(covered.float().mean()), 4),
             "seen_of_covered": round(float(seen_p.float().mean()) if len(seen_p) else 0.0, 4),
             "seconds": round(time.perf_counter() - t0, 3)}
    return BakeResult(texture=texture, seen=seen, covered=covered, weight=weight, stats=stats)


def project_views(
    asset: Asset | Mesh,
    points: torch.Tensor,
    normals: torch.Tensor,
    images: torch.Tensor,
    cameras: Cameras,
    view_weights: Sequence[float] | None = None,
    exponent: float = 4.0,
    *,
    min_cos: float = MIN_COS,
    edge_margin: int | None = None,
    backend: str = "auto",
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The blended colour the views give surface points: the baker's core, at any points.

    Args:
        asset: the mesh the points lie on (rasterised for visibility; UVs not needed).
        points: ``[P, 3]`` world positions on its surface; normals: ``[P, 3]`` unit normals.
        images: ``[V, C, H, W]`` views in [0, 1]; cameras: the V cameras (resized to ``W x H``).
        view_weights, exponent, min_cos, edge_margin, backend: see :func:`bake_views_result`.
        progress: show a progress bar over the views.

    Returns:
        ``(colours [P, C], weight [P])``: the weighted mean colour (0 where ``weight`` is 0,
        i.e. no view sees the point reliably) and the total blend weight.
    """
    mesh = asset.mesh if isinstance(asset, Asset) else asset
    images, cameras, weights = _check_inputs(images, cameras, view_weights, exponent)
    if points.ndim != 2 or points.shape[1] != 3 or normals.shape != points.shape:
        raise InputError(f"points and normals must both be [P, 3], got {tuple(points.shape)} and {tuple(normals.shape)}")
    return _project(mesh, points, normals, images, cameras, weights, exponent, min_cos, edge_margin, backend, progress)


def _project(mesh: Mesh, points, normals, images, cameras, weights, exponent, min_cos, edge_margin, backend,
             progress) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`project_views` on checked inputs."""
    from tqdm.auto import tqdm

    from photo3d.render import MeshTensors, rasterize

    device = points.device
    images = images.to(device)
    mesh_t = MeshTensors.from_mesh(mesh, device)
    margin = _margin(edge_margin, cameras.height)
    num = torch.zeros(len(points), images.shape[1], dtype=torch.float32, device=device)
    den = torch.zeros(len(points), dtype=torch.float32, device=device)
    for v in tqdm(range(len(cameras)), desc="bake", unit="view", disable=not progress, dynamic_ncols=True):
        if weights[v] <= 0:
            continue
        frags = rasterize(mesh_t, cameras[v], backend=backend)
        w, colour = view_samples(points, normals, frags, images[v], cameras[v], exponent, min_cos, margin)
        w = w * weights[v]
        num += w[:, None] * colour
        den += w
    return torch.where(den[:, None] > 0, num / den.clamp_min(1e-30)[:, None], torch.zeros_like(num)), den


def _margin(edge_margin: int | None, height: int) -> int:
    return int(edge_margin) if edge_margin is not None else max(1, round(2 * height / 512))


def view_samples(points: torch.Tensor, normals: torch.Tensor, frags, image: torch.Tensor, camera: Cameras,
                 exponent: float, min_cos: float, margin: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights ``[P]`` (0 where not visible) and colours ``[P, C]`` one view gives surface points.

    Args:
        points, normals: ``[P, 3]`` surface points and unit normals.
        frags: :class:`~photo3d.render.Fragments` of the view, ``[1, H, W]``.
        image: ``[C, H, W]`` the view; camera: the one camera.
        exponent, min_cos, margin: see :func:`bake_views_result`.
    """
    from photo3d.render.fragment_cache import toward_camera
    from photo3d.render.raster_setup import project_vertices

    device = points.device
    _, h, w = image.shape
    ortho = camera.is_orthographic
    c2w = torch.from_numpy(camera.c2w).to(device)
    K = torch.from_numpy(camera.K).to(device)
    xy, z = project_vertices(points, c2w, K, ortho)
    xy, z = xy[0], z[0]
    fy = float(camera.K[0, 1, 1])
    footprint = torch.full_like(z, 1.0 / fy) if ortho else z.clamp_min(1e-6) / fy  # world size of a pixel
    view = torch.zeros(len(z), dtype=torch.long, device=device)
    forward = torch.from_numpy(camera.forward).float().to(device) if ortho else None
    centers = torch.from_numpy(camera.centers).float().to(device)
    cos = (normals * toward_camera(points, view, centers, forward)).sum(-1).abs()

    depth = frags.depth[0].to(device)
    reliable = reliable_pixels(depth, frags.mask[0].to(device), 1.0 / fy if ortho else depth / fy, margin)
    j = torch.floor(xy[:, 0]).long()
    i = torch.floor(xy[:, 1]).long()
    inside = (j >= 0) & (j < w) & (i >= 0) & (i < h) & (z > camera.near)
    pix = (i.clamp(0, h - 1) * w + j.clamp(0, w - 1))
    zbuf = depth.reshape(-1)[pix]
    tol = footprint * (1.0 + 2.0 / cos.clamp_min(0.1))
    visible = inside & reliable.reshape(-1)[pix] & ((z - zbuf).abs() <= tol) & (cos >= min_cos)
    weight = torch.where(visible, cos.pow(exponent), torch.zeros_like(cos))
    grid = torch.stack([xy[:, 0] / w * 2 - 1, xy[:, 1] / h * 2 - 1], -1).view(1, 1, -1, 2)
    colour = F.grid_sample(image[None].float(), grid.float(), mode="bilinear", padding_mode="border",
                           align_corners=False)[0, :, 0].T
    return weight, colour


def reliable_pixels(depth: torch.Tensor, mask: torch.Tensor, footprint: torch.Tensor | float,
                    margin: int) -> torch.Tensor:
    """``[H, W]`` bool: foreground at least ``margin`` pixels from the silhouette and from depth jumps.

    Args:
        depth: ``[H, W]`` camera depth (0 on background); mask: ``[H, W]`` bool foreground.
        footprint: world size of a pixel (scalar, or ``[H, W]``).
        margin: pixels of clearance.
    """
    big = torch.where(mask, depth, torch.full_like(depth, float("inf")))[None, None]
    d = torch.where(mask, depth, torch.zeros_like(depth))[None, None]
    span = dilate(d, 1) - erode(big, 1)  # local max - min of the depth
    jump = (span[0, 0] > DEPTH_JUMP * torch.as_tensor(footprint, dtype=depth.dtype, device=depth.device)) & mask
    bad = dilate(jump[None, None], margin)
    return erode(mask[None, None], margin)[0, 0] & ~bad[0, 0]


def _check_inputs(images: torch.Tensor, cameras: Cameras, view_weights, exponent: float):
    """Images as float, cameras at the images' size, weights as a list; one-line errors otherwise."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise InputError(f"images must be a [V, C, H, W] tensor, got {getattr(images, 'shape', type(images))}")
    if len(images) != len(cameras):
        raise InputError(f"{len(images)} image(s) but {len(cameras)} camera(s); give one camera per view")
    if not torch.isfinite(images).all():
        raise InputError("images contain NaN or Inf values")
    _, _, h, w = images.shape
    if (w, h) != (cameras.width, cameras.height):
        if abs(w / h - cameras.width / cameras.height) > 0.01 * w / h:
            raise InputError(f"views are {w}x{h} but the cameras are {cameras.width}x{cameras.height}; "
                             "views must have the cameras' aspect ratio")
        cameras = cameras.resized(w, h)
    weights = [1.0] * len(cameras) if view_weights is None else [float(x) for x in view_weights]
    if len(weights) != len(cameras) or any(x < 0 or not math.isfinite(x) for x in weights):
        raise InputError(f"view_weights must be {len(cameras)} non-negative numbers, got {list(view_weights)}")
    if exponent < 0:
        raise InputError(f"exponent must be >= 0, got {exponent}")
    return images.float(), cameras, weights
