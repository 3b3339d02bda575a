"""bake_views: texture recovery, visibility, view and angle weights, inpainting, input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from bake_meshes import sheet, two_quads, with_texture

from photo3d.assets import load_asset, single_atlas
from photo3d.bake import bake_views, bake_views_result, project_views, texel_surface
from photo3d.cameras import STEP1X3D_VIEW_WEIGHTS, Cameras, orbit_cameras, rig_cameras, step1x3d_rig_cameras
from photo3d.errors import InputError
from photo3d.render import MeshTensors, rasterize, render_views

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / (a - b)[:, mask].square().mean()))


@pytest.fixture(scope="module")
def sugar_box_128(sugar_box_path):
    """The sugar box with its texture reduced to 128² (what a 128² bake can hold), and that texture."""
    asset = load_asset(sugar_box_path)
    tex = torch.from_numpy(asset.mesh.materials[0].base_color_texture).permute(2, 0, 1)[None].float() / 255
    small = F.interpolate(tex, size=(128, 128), mode="area")[0]
    return asset, small


def _render(asset, texture, cams, ssaa=2):
    mesh = MeshTensors.from_mesh(asset.mesh)
    return render_views(mesh, cams, textures=[texture], ssaa=ssaa, backend="torch").rgb


@pytest.mark.parametrize("rig", ["step1x3d", "perspective"])
def test_bake_of_renders_reproduces_the_texture_on_seen_texels(sugar_box_128, rig):
    asset, truth = sugar_box_128
    if rig == "step1x3d":
        cams = step1x3d_rig_cameras(192)
    else:  # the Photo3D rig plus a view from above and one from below
        cams = Cameras.cat([rig_cameras(192), orbit_cameras([0.0, 0.0], [80.0, -80.0], resolution=192)])
    views = _render(asset, truth, cams)
    res = bake_views_result(asset, views, cams, texture_size=128, backend="torch")
    assert res.texture.shape == (3, 128, 128) and res.seen.dtype == torch.bool
    assert float(res.seen[res.covered].float().mean()) > 0.9
    assert psnr(res.texture, truth, res.seen) > 30.0
    # A render of the baked texture looks like the views it came from.
    assert psnr(_render(asset, res.texture, cams).flatten(0, 1), views.flatten(0, 1), torch.ones(192, 192, dtype=bool)) > 28.0


def test_occluded_texels_are_not_painted():
    asset = two_quads()
    cams = orbit_cameras([180.0], 0.0, resolution=64, ortho_half_extent=0.55)  # sees the front square only
    red = torch.zeros(1, 3, 64, 64)
    red[:, 0] = 1.0
    res = bake_views_result(asset, red, cams, texture_size=64, backend="torch")
    left = torch.zeros(64, 64, dtype=torch.bool)
    left[:, :32] = True
    seen_front = res.seen & left
    assert float(seen_front.sum()) > 0.8 * float((res.covered & left).sum())
    assert not (res.seen & ~left).any()  # the hidden square received nothing
    assert torch.allclose(res.texture[:, res.seen], torch.tensor([1.0, 0.0, 0.0])[:, None])


def test_unseen_texels_and_gutters_are_filled():
    # One view of a constant-colour sheet seen edge-on from one side: the harmonic fill of a
    # constant is that constant, everywhere on the charts and in the gutters.
    asset = sheet(8)
    cams = orbit_cameras([200.0], [35.0], resolution=48)
    colour = torch.tensor([0.2, 0.6, 0.9])
    views = colour.view(1, 3, 1, 1).expand(1, 3, 48, 48).contiguous()
    res = bake_views_result(asset, views, cams, texture_size=64, min_cos=0.0, edge_margin=8, backend="torch")
    unseen = res.covered & ~res.seen
    assert unseen.float().mean() > 0.1 and res.seen.any()
    assert torch.allclose(res.texture, colour.view(3, 1, 1).expand(3, 64, 64), atol=1e-4)
    # Without the fill, unseen texels stay empty.
    raw = bake_views_result(asset, views, cams, texture_size=64, min_cos=0.0, edge_margin=8, fill=False,
                            backend="torch")
    assert float(raw.texture[:, unseen].abs().max()) == 0.0


def test_unseen_patch_is_filled_smoothly_from_its_surroundings():
    # A linear colour ramp along X is harmonic: the fill of a hole inside it is the ramp itself.
    asset = sheet(16)
    cams = orbit_cameras([180.0], 0.0, resolution=96, ortho_half_extent=0.55)
    ramp = torch.linspace(0, 1, 96)
    views = torch.stack([ramp.expand(96, 96), 1 - ramp.expand(96, 96), torch.full((96, 96), 0.5)])[None]
    views[..., 40:56, 40:56] = 1.0  # a smudge the baker must not trust...
    full = bake_views_result(asset, views, cams, texture_size=64, backend="torch")
    seen = full.seen.clone()
    seen[24:40, 24:40] = False  # ...so treat it as unseen and let the surface fill it
    from photo3d.bake import fill_unseen

    filled = fill_unseen(asset, texel_surface(asset, 64), full.texture, seen)
    u = (torch.arange(64) + 0.5) / 64  # texel u = world x + 0.5; the ramp runs along image x
    expect_r = ((u - 0.5) * 96 / 1.1 + 48 - 0.5) / 95
    err = (filled[0, 24:40, 24:40] - expect_r[24:40].expand(16, 16)).abs().max()
    assert float(err) < 0.03


def test_view_weights_and_exponent_decide_the_blend(sugar_box_128):
    asset, _ = sugar_box_128
    cams = orbit_cameras([180.0, 150.0], 0.0, resolution=96)  # overlapping views
    views = torch.zeros(2, 3, 96, 96)
    views[0, 0] = 1.0  # view 0 paints red, view 1 blue
    views[1, 2] = 1.0
    red_share = {}
    for weights in ([1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.05]):
        res = bake_views_result(asset, views, cams, 96, view_weights=weights, backend="torch")
        both = res.seen
        red_share[tuple(weights)] = float(res.texture[0, both].mean())
    assert red_share[(1.0, 0.0)] > 0.999 and red_share[(0.0, 1.0)] < 0.001
    assert red_share[(0.0, 1.0)] < red_share[(1.0, 1.0)] < red_share[(1.0, 0.05)] < red_share[(1.0, 0.0)]
    # A higher exponent favours whichever view faces a texel more squarely: the blend sharpens.
    soft = bake_views(asset, views, cams, 96, exponent=0.0, backend="torch")
    sharp = bake_views(asset, views, cams, 96, exponent=8.0, backend="torch")
    mixed = lambda t: float(((t[0] > 0.1) & (t[2] > 0.1)).float().mean())  # noqa: E731
    assert mixed(sharp) < mixed(soft)


def test_views_at_another_resolution_and_step1x3d_weights(sugar_box_128):
    asset, truth = sugar_box_128
    cams = step1x3d_rig_cameras(96)
    views = _render(asset, truth, cams.resized(192))  # views twice the cameras' size: cameras follow
    tex = bake_views(asset, views, cams, 128, view_weights=STEP1X3D_VIEW_WEIGHTS, backend="torch")
    res = bake_views_result(asset, views, cams.resized(192), 128, view_weights=STEP1X3D_VIEW_WEIGHTS, backend="torch")
    assert torch.allclose(tex, res.texture)
    assert psnr(tex, truth, res.seen) > 28.0


def test_texel_surface_points_lie_where_the_uvs_say():
    asset = sheet(4)
    surf = texel_surface(asset, 32)
    assert surf.covered.all() and len(surf.index) == 32 * 32
    i, j = surf.index // 32, surf.index % 32
    expect = torch.stack([(j + 0.5) / 32 - 0.5, torch.zeros(len(i)), 0.5 - (i + 0.5) / 32], 1)
    assert torch.allclose(surf.points, expect.float(), atol=1e-6)
    assert torch.allclose(surf.normals.abs(), torch.tensor([0.0, 1.0, 0.0]).expand_as(surf.normals))


def test_bad_inputs_are_one_clear_error(bunny_path, sugar_box_128):
    asset, truth = sugar_box_128
    cams = step1x3d_rig_cameras(32)
    views = torch.ones(6, 3, 32, 32)
    with pytest.raises(InputError, match="single_atlas"):
        bake_views(load_asset(bunny_path), views, cams, 32)
    with pytest.raises(InputError, match="5 image.*6 camera"):
        bake_views(asset, views[:5], cams, 32)
    with pytest.raises(InputError, match="view_weights"):
        bake_views(asset, views, cams, 32, view_weights=[1.0, 2.0])
    with pytest.raises(InputError, match="aspect"):
        bake_views(asset, torch.ones(6, 3, 32, 48), cams, 32)
    with pytest.raises(InputError, match="NaN"):
        bake_views(asset, torch.full((6, 3, 32, 32), math.nan), cams, 32)


def test_single_atlas_gives_any_mesh_a_bakeable_atlas(bunny_path):
    pytest.importorskip("xatlas")
    asset = single_atlas(load_asset(bunny_path), texture_size=64)
    assert asset.mesh.uv is not None and len(asset.mesh.materials) == 1 and asset.meta["uv_generated"]
    assert np.unique(asset.mesh.face_material).tolist() == [0]
    cams = step1x3d_rig_cameras(64)
    green = torch.zeros(6, 3, 64, 64)
    green[:, 1] = 1.0
    tex = bake_views(asset, green, cams, 64, backend="torch")
    assert torch.allclose(tex, torch.tensor([0.0, 1.0, 0.0]).view(3, 1, 1).expand(3, 64, 64), atol=1e-4)


def test_project_views_reprojects_one_rig_onto_another(sugar_box_128):
    # The Step1X-3D views give the colour of every surface point the Photo3D rig sees.
    asset, truth = sugar_box_128
    src = step1x3d_rig_cameras(192)
    views = _render(asset, truth, src)
    mesh = MeshTensors.from_mesh(asset.mesh)
    rig = rig_cameras(64)
    frags = rasterize(mesh, rig, backend="torch")
    m = frags.mask
    tri = mesh.faces[frags.face_id[m]]
    points = (mesh.vertices[tri] * frags.bary[m][..., None]).sum(1)
    normals = torch.nn.functional.normalize((mesh.normals[tri] * frags.bary[m][..., None]).sum(1), dim=-1)
    colours, weight = project_views(asset, points, normals, views, src, backend="torch")
    assert colours.shape == (len(points), 3) and weight.shape == (len(points),)
    target = _render(asset, truth, rig, ssaa=1).permute(0, 2, 3, 1)[m]
    ok = weight > 0
    assert ok.float().mean() > 0.85
    assert float(10 * torch.log10(1 / (colours[ok] - target[ok]).square().mean())) > 32.0
    assert float(colours[~ok].abs().max()) == 0.0
