"""Shading: texture lookup, UV orientation, gradients, anti-aliasing, background, shading modes."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from render_meshes import make_cube, make_quad, quadrant_texture

from photo3d.cameras import orbit_cameras, rig_cameras
from photo3d.errors import InputError
from photo3d.render import MeshTensors, rasterize, render_mesh, resolve_shading, sample_texture, shade

FRONT = rig_cameras(32)[[2]]  # yaw 180 sees the -Y side


def test_sample_texture_matches_grid_sample_inside():
    tex = torch.rand(3, 5, 7, dtype=torch.float64)
    uv = torch.rand(200, 2, dtype=torch.float64) * 0.8 + 0.1
    # Keep away from the border, where grid_sample's padding and our wrapping differ.
    ours = sample_texture(tex, uv)
    ref = F.grid_sample(tex[None], (uv * 2 - 1).view(1, 1, -1, 2), mode="bilinear", align_corners=False)
    ref = ref[0, :, 0].T
    inner = ((uv[:, 0] * 7 > 0.5) & (uv[:, 0] * 7 < 6.5) & (uv[:, 1] * 5 > 0.5) & (uv[:, 1] * 5 < 4.5))
    assert inner.sum() > 50
    torch.testing.assert_close(ours[inner], ref[inner])


def test_sample_texture_wraps_with_repeat():
    tex = torch.rand(3, 4, 6)
    uv = torch.rand(50, 2)
    shifted = uv + torch.tensor([2.0, -3.0])
    torch.testing.assert_close(sample_texture(tex, uv), sample_texture(tex, shifted), atol=1e-5, rtol=1e-5)
    # At the left edge, repeat blends the first and last texel columns.
    edge = sample_texture(tex, torch.tensor([[0.0, 0.5 / 4 + 0.25]]))  # row 1 centre, u = 0
    torch.testing.assert_close(edge[0], 0.5 * (tex[:, 1, 0] + tex[:, 1, -1]))


def test_uv_orientation_quadrants():
    mesh = MeshTensors.from_mesh(make_quad(quadrant_texture(8), half=0.3))
    out = render_mesh(mesh, FRONT, backend="torch", shading="unlit")
    rgb = out.rgb[0]
    rows, cols = torch.nonzero(out.alpha[0, 0] > 0, as_tuple=True)
    r0, r1, c0, c1 = rows.min().item(), rows.max().item(), cols.min().item(), cols.max().item()
    q = lambda r, c: rgb[:, r, c]
    d = 2  # stay inside each quadrant
    torch.testing.assert_close(q(r0 + d, c0 + d), torch.tensor([1.0, 0.0, 0.0]))  # top-left red
    torch.testing.assert_close(q(r0 + d, c1 - d), torch.tensor([0.0, 1.0, 0.0]))  # top-right green
    torch.testing.assert_close(q(r1 - d, c0 + d), torch.tensor([0.0, 0.0, 1.0]))  # bottom-left blue
    torch.testing.assert_close(q(r1 - d, c1 - d), torch.tensor([1.0, 1.0, 1.0]))  # bottom-right white


def _tiny_scene(dtype=torch.float64):
    mesh = MeshTensors.from_mesh(make_quad(quadrant_texture(4), half=0.4))
    mesh.vertex_colors = torch.rand(4, 4, dtype=dtype) * 0.5 + 0.25
    mesh.uv = mesh.uv.to(dtype)
    frags = rasterize(mesh, rig_cameras(6)[[2]], backend="torch")
    return mesh, frags


def test_gradcheck_texture():
    mesh, frags = _tiny_scene()
    assert frags.mask.sum() >= 9
    tex = torch.rand(3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: shade(mesh, frags, textures=[t]).rgb, (tex,))


def test_gradcheck_vertex_colors():
    mesh, frags = _tiny_scene()
    vc = mesh.vertex_colors.clone().requires_grad_(True)
    fn = lambda c: shade(dataclasses.replace(mesh, vertex_colors=c), frags).rgb
    assert torch.autograd.gradcheck(fn, (vc,))


def test_texture_gradient_reaches_only_visible_texels():
    mesh = MeshTensors.from_mesh(make_quad(quadrant_texture(16), half=0.3))
    frags = rasterize(mesh, FRONT, backend="torch")
    tex = mesh.textures[0].clone().requires_grad_(True)
    shade(mesh, frags, textures=[tex]).rgb.sum().backward()
    assert tex.grad.abs().sum() > 0
    assert (tex.grad >= 0).all()  # rgb is increasing in every texel


def test_ssaa_gives_fractional_alpha_on_edges():
    mesh = MeshTensors.from_mesh(make_cube())
    cams = orbit_cameras([30.0], [20.0], resolution=24)
    hard = render_mesh(mesh, cams, backend="torch", ssaa=1)
    soft = render_mesh(mesh, cams, backend="torch", ssaa=3)
    assert set(torch.unique(hard.alpha).tolist()) <= {0.0, 1.0}
    frac = ((soft.alpha > 0) & (soft.alpha < 1)).sum().item()
    assert frac >= 10
    assert soft.rgb.shape == hard.rgb.shape == (1, 3, 24, 24)
    # Coverage agrees on average with the hard render.
    assert abs(soft.alpha.mean().item() - hard.alpha.mean().item()) < 0.02


def test_background_colour_and_alpha():
    mesh = MeshTensors.from_mesh(make_cube())
    out = render_mesh(mesh, FRONT, background=(0.1, 0.2, 0.3), backend="torch")
    bg = out.alpha[0, 0] == 0
    assert bg.sum() > 100
    torch.testing.assert_close(out.rgb[0][:, bg].T, torch.tensor([0.1, 0.2, 0.3]).expand(int(bg.sum()), 3))
    assert (out.depth[0, 0][bg] == 0).all() and (out.depth[0, 0][~bg] > 0).all()
    assert (out.face_id[0, 0][bg] == -1).all()


def test_shading_modes():
    cube = MeshTensors.from_mesh(make_cube())
    assert resolve_shading(cube, "auto") == "unlit"  # vertex colours
    plain = dataclasses.replace(cube, vertex_colors=None)
    assert resolve_shading(plain, "auto") == "diffuse"
    cams = orbit_cameras([40.0], [30.0], resolution=32)
    out = render_mesh(plain, cams, backend="torch")
    shades = torch.unique(out.rgb[0, 0][out.alpha[0, 0] > 0].round(decimals=3))
    assert len(shades) >= 3  # three visible sides, three brightness levels
    unlit = render_mesh(plain, cams, backend="torch", shading="unlit")
    assert torch.unique(unlit.rgb[0, 0][unlit.alpha[0, 0] > 0]).numel() == 1
    with pytest.raises(InputError):
        render_mesh(plain, cams, backend="torch", shading="phong")


def test_normals_are_world_space_unit():
    mesh = MeshTensors.from_mesh(make_cube())
    out = render_mesh(mesh, FRONT, backend="torch")
    m = out.alpha[0, 0] > 0
    n = out.normals[0][:, m]
    torch.testing.assert_close(n.norm(dim=0), torch.ones(n.shape[1]), atol=1e-4, rtol=0)
    # The front camera sees mostly the -Y side.
    assert n[1].mean() < -0.3


def test_texture_override_and_validation():
    mesh = MeshTensors.from_mesh(make_quad(quadrant_texture(8), half=0.3))
    frags = rasterize(mesh, FRONT, backend="torch")
    grey = torch.full((3, 8, 8), 0.5)
    out = shade(mesh, frags, textures=grey)
    assert torch.allclose(out.rgb[0][:, out.alpha[0, 0] > 0], torch.tensor(0.5))
    with pytest.raises(InputError):
        shade(mesh, frags, textures=[grey, grey])
    with pytest.raises(InputError):
        shade(mesh, frags, textures=[torch.rand(8, 8)])
