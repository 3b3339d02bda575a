"""Fitting a UV texture so the mesh render matches target renders (e.g. of 3D Gaussians).

Feed-forward texturers (TexGaussian) output Gaussians on the surface, not views; the texture is
whatever makes our differentiable mesh render look like their render. The fit:

1. renders the targets once at the given cameras plus ``random_views`` random orbit views with
   the same intrinsics and projection (seeded), and rasterises the mesh at all of them once;
2. starts from the back-projection of those targets (:func:`~photo3d.bake.project.bake_views_result`,
   ``init="bake"``; close already, so the fit only corrects what blending blurred) or from grey;
3. optimises a Laplacian-pyramid texture (:class:`photo3d.enhance.texture.LaplacianTexture`:
   coarse levels fix colour in a few steps, fine ones add detail; the finest level is the texel
   spacing the views resolve, as in ``photo3d enhance``) with Adam on the MSE over the
   mesh's pixels weighted like the bake weights views (:func:`pixel_weights`: ``|n . v|^exponent``,
   silhouettes and depth edges left out; without it the fit overfits the grazing pixels where
   a Gaussian render smears, and held-out views get worse than the bake alone),
   ``views_per_step`` views per step, re-shading cached fragments (the loop of
   :func:`photo3d.enhance.optimise.optimise`);
4. inpaints texels neither the bake nor any fitted pixel determined (:mod:`photo3d.bake.inpaint`).

TexGaussian's release fits logits at 1024² with Adam (lr 0.1) on 6 fixed views then random ones;
the pyramid reaches the same fit in far fewer steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F

from photo3d.assets.mesh import Asset, Mesh
from photo3d.bake.inpaint import NEUTRAL, fill_unseen
from photo3d.bake.project import BakeResult, bake_views_result
from photo3d.bake.texels import baking_mesh, texel_surface
from photo3d.cameras import Cameras, random_cameras_like
from photo3d.errors import InputError

RenderFn = Callable[[Cameras], torch.Tensor]
RENDER_CHUNK = 8  # target views rendered per call of render_fn


def fit_texture(asset: Asset | Mesh, render_fn: RenderFn, cameras: Cameras, texture_size: int = 1024,
                steps: int = 100, lr: float = 0.005, **options) -> torch.Tensor:
    """Fit a ``[3, T, T]`` UV texture so the mesh render matches ``render_fn(cameras)``.

    Args:
        asset: an asset (or mesh) with one UV atlas (:func:`photo3d.assets.single_atlas`).
        render_fn: cameras -> ``[V, 3, H, W]`` target renders in [0, 1] on white (e.g.
            ``lambda c: render_gaussians(g, c).rgb``).
        cameras: the fixed views.
        texture_size: atlas side T in texels.
        steps: Adam steps; lr: Adam learning rate (texture values in [0, 1]); the default suits
            refining a bake (``init="bake"``), a fit from grey wants about 0.03.
        **options: see :func:`fit_texture_result`.

    Returns:
        ``[3, T, T]`` texture in [0, 1].
    """
    return fit_texture_result(asset, render_fn, cameras, texture_size, steps, lr, **options).texture


def fit_texture_result(
    asset: Asset | Mesh,
    render_fn: RenderFn,
    cameras: Cameras,
    texture_size: int = 1024,
    steps: int = 100,
    lr: float = 0.005,
    *,
    random_views: int = 0,
    views_per_step: int = 0,
    init: Literal["bake", "constant"] | torch.Tensor = "bake",
    levels: int = 6,
    band_limit: bool = True,
    exponent: float = 4.0,
    seed: int = 0,
    backend: str = "auto",
    device: str | torch.device | None = None,
    progress: bool = True,
) -> BakeResult:
    """:func:`fit_texture` with masks, statistics and the loss history.

    Args:
        asset, render_fn, cameras, texture_size, steps, lr: as :func:`fit_texture`.
        random_views: extra random orbit views (same intrinsics and projection), rendered once.
        views_per_step: views per Adam step (0 = all).
        init: ``"bake"`` (back-project the targets first), ``"constant"`` (grey) or a
            ``[3, T, T]`` starting texture.
        levels: Laplacian pyramid levels (1 = free texels).
        band_limit: start the pyramid at the texel spacing the views sample
            (:func:`photo3d.enhance.texture.finest_level`): texels between the views' samples only
            get smooth updates instead of drifting (a 1024² texture seen at 256 px otherwise
            overfits the fitted views and held-out views get worse than the bake).
        exponent: view-angle exponent of the initial bake and of the pixel weights.
        seed: random views and view order.
        backend: visibility backend.
        device: where to fit (default: CPU).
        progress: show a progress bar.

    Returns:
        :class:`~photo3d.bake.project.BakeResult` (``history`` holds the losses per step;
        ``stats["fit_psnr_db"]`` is the PSNR of the final mesh render over its pixels).
    """
    from photo3d.enhance.optimise import optimise
    from photo3d.enhance.texture import LaplacianTexture, finest_level
    from photo3d.enhance.views import FixedViews
    from photo3d.enhance.visibility import sample_spacing, texel_visibility
    from photo3d.render import MeshTensors

    t0 = time.perf_counter()
    mesh = baking_mesh(asset, "fit_texture")
    if steps < 0 or lr <= 0:
        raise InputError(f"fit_texture needs steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    cams = Cameras.cat([cameras, random_cameras_like(cameras, random_views, seed)]) if random_views else cameras
    targets = render_targets(render_fn, cams, dev)
    surface = texel_surface(mesh, texture_size, dev)
    init_seen = torch.zeros(texture_size, texture_size, dtype=torch.bool, device=dev)
    if isinstance(init, torch.Tensor):
        if init.shape != (3, texture_size, texture_size):
            raise InputError(f"init texture must be [3, {texture_size}, {texture_size}], got {tuple(init.shape)}")
        start = init.to(dev).float().clamp(0, 1)
    elif init == "bake":
        baked = bake_views_result(mesh, targets, cams, texture_size, exponent=exponent, backend=backend,
                                  surface=surface)
        start, init_seen = baked.texture, baked.seen
    elif init == "constant":
        start = torch.full((3, texture_size, texture_size), NEUTRAL, device=dev)
    else:
        raise InputError(f"init must be 'bake', 'constant' or a texture tensor, got {init!r}")

    mesh_t = MeshTensors.from_mesh(mesh, dev)
    views = FixedViews(mesh_t, cams, backend=backend, shading="unlit")
    weight = pixel_weights(mesh_t, views.fragments, cams, exponent)
    packed = torch.cat([targets, weight], 1)  # the loop hands the objective targets[idx]: carry the weights along
    finest = 0
    if band_limit:
        with torch.no_grad():
            out = views.render([start])
        fg = views.face_material(out) == 0
        finest = finest_level(sample_spacing(out.uv[:, 0], out.uv[:, 1], fg, (texture_size, texture_size)))
    param = LaplacianTexture(start, levels, finest, straight_through=True).to(dev)
    loop = optimise(views, {0: param}, packed, masked_mse, steps, lr=lr, views_per_step=views_per_step, seed=seed,
                    progress=progress, desc="fit texture")
    with torch.no_grad():
        texture = param().clamp(0, 1)
        final = views.render([texture])
        fit_seen = texel_visibility(final.uv, views.face_material(final), {0: (texture_size, texture_size)}, 1)[0]
        seen = init_seen | fit_seen
        texture = fill_unseen(mesh, surface, texture, seen).clamp(0, 1)
        fg = (weight > 0).expand_as(targets)
        mse = (views.render([texture]).rgb - targets)[fg].square().mean()
    covered = torch.as_tensor(surface.covered, device=dev)
    stats = {"texture_size": texture_size, "views": len(cams), "fixed_views": len(cameras),
             "random_views": random_views, "steps": loop.steps, "lr": lr, "init": init if isinstance(init, str) else "tensor",
             "levels": param.levels, "finest_level": param.finest, "covered_texels": round(float(covered.float().mean()), 4),
             "seen_of_covered": round(float(seen[covered].float().mean()), 4),
             "fit_psnr_db": round(float(10 * torch.log10(1 / mse.clamp_min(1e-12))), 2),
             "first_loss": loop.history[0]["loss"] if loop.history else None,
             "last_loss": loop.history[-1]["loss"] if loop.history else None,
             "seconds": round(time.perf_counter() - t0, 3)}
    return BakeResult(texture=texture, seen=seen, covered=covered, weight=seen.float(), stats=stats,
                      history=loop.history)


def masked_mse(pred: torch.Tensor, packed: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"loss"}``: MSE of ``pred [n, 3, H, W]`` against ``packed[:, :3]``, weighted per pixel by ``packed[:, 3]``."""
    target, weight = packed[:, :3], packed[:, 3:]
    err = ((pred - target).square() * weight).sum() / (3 * weight.sum()).clamp_min(1e-12)
    return {"loss": err}


def pixel_weights(mesh, fragments, cameras: Cameras, exponent: float) -> torch.Tensor:
    """``[N, 1, H, W]`` trust in each pixel of the fit: ``|n . v|^exponent`` on reliable pixels.

    The same rule as the bake (:func:`~photo3d.bake.project.view_samples`): pixels near
    silhouettes and depth jumps are left out, grazing ones count little, because a render of
    Gaussians (which have thickness) smears colours there and would pull the texels with it.
    """
    from photo3d.bake.project import MIN_COS, reliable_pixels
    from photo3d.render.fragment_cache import toward_camera

    fid, n = fragments.face_id, len(cameras)
    hit = fid >= 0
    tri = mesh.faces[fid[hit]]
    bary = fragments.bary[hit][..., None]
    pos = (mesh.vertices[tri] * bary).sum(1)
    nrm = F.normalize((mesh.normals[tri] * bary).sum(1), dim=-1)
    view = torch.nonzero(hit)[:, 0]
    cos = (nrm * toward_camera(pos, view, fragments.camera_centers, fragments.camera_forward)).sum(-1).abs()
    weight = torch.zeros(fid.shape, device=fid.device)
    weight[hit] = torch.where(cos >= MIN_COS, cos.pow(exponent), torch.zeros_like(cos))
    fy = torch.as_tensor(cameras.K[:, 1, 1], dtype=torch.float32, device=fid.device)
    margin = max(1, round(2 * cameras.height / 512))
    for v in range(n):
        foot = 1.0 / fy[v] if cameras.is_orthographic else fragments.depth[v] / fy[v]
        weight[v] *= reliable_pixels(fragments.depth[v], hit[v], foot, margin)
    return weight[:, None]


def render_targets(render_fn: RenderFn, cameras: Cameras, device: torch.device) -> torch.Tensor:
    """``[V, 3, H, W]`` ``render_fn`` at ``cameras``, :data:`RENDER_CHUNK` views a call, checked."""
    chunks = []
    with torch.no_grad():
        for i in range(0, len(cameras), RENDER_CHUNK):
            part = cameras[i:i + RENDER_CHUNK]
            img = render_fn(part)
            want = (len(part), 3, cameras.height, cameras.width)
            if not isinstance(img, torch.Tensor) or tuple(img.shape) != want:
                raise InputError(f"render_fn returned {getattr(img, 'shape', type(img))}, want {want} "
                                 "([V, 3, H, W] for V cameras)")
            chunks.append(img.detach().float().to(device).clamp(0, 1))
    targets = torch.cat(chunks)
    if not torch.isfinite(targets).all():
        raise InputError("render_fn returned NaN or Inf values")
    return targets
