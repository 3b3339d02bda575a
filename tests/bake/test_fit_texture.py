"""fit_texture: recovering a known texture from renders, Gaussian targets, input errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from photo3d.assets import load_asset
from photo3d.bake import fit_texture, fit_texture_result, texel_surface
from photo3d.cameras import Cameras, random_cameras_like, step1x3d_rig_cameras
from photo3d.errors import InputError
from photo3d.gaussians import Gaussians
from photo3d.render import MeshTensors, rasterize, render_views, shade
from photo3d.gaussians import render_gaussians

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SIZE, RES = 64, 96


@pytest.fixture(scope="module")
def box(sugar_box_path):
    asset = load_asset(sugar_box_path)
    tex = torch.from_numpy(asset.mesh.materials[0].base_color_texture).permute(2, 0, 1)[None].float() / 255
    truth = F.interpolate(tex, size=(SIZE, SIZE), mode="area")[0]
    mesh = MeshTensors.from_mesh(asset.mesh)
    return asset, truth, mesh


def footprint(mesh, cams) -> torch.Tensor:
    """Texels whose value reaches some pixel of the renders (the ones a fit can determine, together
    with their neighbours: a gutter texel only shares taps with the chart texel next to it)."""
    tex = torch.zeros(3, SIZE, SIZE, requires_grad=True)
    shade(mesh, rasterize(mesh, cams, backend="torch"), textures=[tex]).rgb.sum().backward()
    g = tex.grad.abs().sum(0)
    return g > 1e-3 * g.max()


def test_fit_recovers_a_known_texture_from_grey(box):
    asset, truth, mesh = box
    cams = step1x3d_rig_cameras(RES)
    render_fn = lambda c: render_views(mesh, c, textures=[truth], backend="torch").rgb  # noqa: E731
    res = fit_texture_result(asset, render_fn, cams, SIZE, steps=60, lr=0.03, random_views=4, init="constant",
                             backend="torch", progress=False)
    losses = [h["loss"] for h in res.history]
    assert len(losses) == 60 and losses[-1] < 0.02 * losses[0]
    seen = footprint(mesh, Cameras.cat([cams, random_cameras_like(cams, 4, 0)])) & res.covered
    assert seen.float().mean() > 0.5
    err = (res.texture - truth)[:, seen].square().mean()
    assert float(10 * torch.log10(1 / err)) > 35.0
    assert res.stats["fit_psnr_db"] > 35.0 and res.stats["random_views"] == 4


def test_fit_to_gaussian_renders_starts_from_the_bake_and_improves(box):
    asset, truth, mesh = box
    # Gaussians on the surface carrying the texture's colours: the case of feed-forward texturers.
    surf = texel_surface(asset, 96)
    colours = F.grid_sample(truth[None], (torch.stack([(surf.index % 96 + 0.5) / 48 - 1, (surf.index // 96 + 0.5) / 48 - 1], -1)
                                          .float().view(1, 1, -1, 2)), align_corners=False)[0, :, 0].T
    g = Gaussians.from_points(surf.points, colours, scale=0.004, opacity=0.95)
    cams = step1x3d_rig_cameras(RES)
    render_fn = lambda c: render_gaussians(g, c, backend="torch").rgb  # noqa: E731
    res = fit_texture_result(asset, render_fn, cams, SIZE, steps=30, lr=0.01, backend="torch", progress=False)
    losses = [h["loss"] for h in res.history]
    assert losses[-1] < 0.8 * losses[0]  # the bake was close; the fit still improves on it
    assert res.stats["fit_psnr_db"] > 24.0 and res.stats["init"] == "bake"
    err = (res.texture - truth)[:, footprint(mesh, cams) & res.covered].square().mean()
    assert float(10 * torch.log10(1 / err)) > 22.0
    assert res.texture.shape == (3, SIZE, SIZE) and 0 <= float(res.texture.min()) <= float(res.texture.max()) <= 1


def test_fit_texture_returns_the_texture_and_checks_render_fn(box):
    asset, truth, mesh = box
    cams = step1x3d_rig_cameras(32)
    render_fn = lambda c: render_views(mesh, c, textures=[truth], backend="torch").rgb  # noqa: E731
    tex = fit_texture(asset, render_fn, cams, 32, steps=2, progress=False, backend="torch")
    assert tex.shape == (3, 32, 32)
    with pytest.raises(InputError, match="render_fn returned"):
        fit_texture(asset, lambda c: torch.ones(1, 3, 8, 8), cams, 32, steps=1, progress=False)
    with pytest.raises(InputError, match="init"):
        fit_texture(asset, render_fn, cams, 32, steps=1, init="noise", progress=False)


def test_fit_is_band_limited_to_what_the_views_resolve(box):
    asset, truth, mesh = box
    cams = step1x3d_rig_cameras(24)  # 24 px views of a 64² texture: samples several texels apart
    render_fn = lambda c: render_views(mesh, c, textures=[truth], backend="torch").rgb  # noqa: E731
    limited = fit_texture_result(asset, render_fn, cams, SIZE, steps=1, progress=False, backend="torch")
    free = fit_texture_result(asset, render_fn, cams, SIZE, steps=1, band_limit=False, progress=False, backend="torch")
    assert limited.stats["finest_level"] >= 1 and free.stats["finest_level"] == 0
