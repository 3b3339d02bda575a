"""The tap-based texture sampler and the per-fragments shading cache against plain references."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from render_meshes import make_quad, quadrant_texture

from photo3d.assets.mesh import Material, Mesh
from photo3d.cameras import orbit_cameras, rig_cameras
from photo3d.render import MeshTensors, rasterize, sample_texture, shade
from photo3d.render.fragment_cache import shading_setup
from photo3d.render.texture_sample import sample_taps, sample_texture_reference, texel_taps, zeros_large


def _uv(n: int, dtype=torch.float64) -> torch.Tensor:
    # Include UVs outside [0, 1] (repeat wrapping) and exact texel centres / edges.
    uv = torch.rand(n, 2, dtype=dtype) * 3 - 1
    uv[:4] = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.5 / 6, 0.5 / 5], [-1.0, 2.0]], dtype=dtype)
    return uv


def test_sample_taps_gradcheck_float64():
    uv = _uv(40)
    taps = texel_taps(uv, 5, 6)
    tex = torch.rand(3, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: sample_taps(t, taps), (tex,))


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("sort", [True, False])
def test_sample_taps_matches_reference_values_and_gradients(channels, dtype, sort):
    uv = _uv(300, dtype)
    tex = torch.rand(channels, 7, 9, dtype=dtype, requires_grad=True)
    weights = torch.rand(300, channels, dtype=dtype)
    ours = sample_taps(tex, texel_taps(uv, 7, 9, sort=sort)).T
    ref = sample_texture_reference(tex, uv)
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {}
    torch.testing.assert_close(ours, ref, **tol)
    (g_ours,) = torch.autograd.grad((ours * weights).sum(), tex)
    (g_ref,) = torch.autograd.grad((ref * weights).sum(), tex)
    torch.testing.assert_close(g_ours, g_ref, **tol)
    assert g_ours.shape == tex.shape and g_ours.is_contiguous()


def test_taps_are_sorted_and_weights_sum_to_one():
    taps = texel_taps(_uv(100), 8, 8)
    assert (taps.texel[1:] >= taps.texel[:-1]).all()
    assert taps.texel.min() >= 0 and taps.texel.max() < 64
    sums = torch.zeros(100, dtype=torch.float64).index_add_(0, taps.point, taps.weight)
    torch.testing.assert_close(sums, torch.ones(100, dtype=torch.float64))


def test_sample_texture_keeps_uv_gradient():
    tex = torch.rand(3, 6, 6, dtype=torch.float64)
    uv = (torch.rand(50, 2, dtype=torch.float64) * 0.8 + 0.1).requires_grad_(True)
    (g,) = torch.autograd.grad(sample_texture(tex, uv).sum(), uv)
    (g_ref,) = torch.autograd.grad(sample_texture_reference(tex, uv).sum(), uv)
    torch.testing.assert_close(g, g_ref)
    assert g.abs().sum() > 0


@pytest.mark.parametrize("shape", [(3, 5), (3, 1 << 20)])  # small path and the huge-page path
def test_zeros_large_is_zero(shape):
    z = zeros_large(shape, torch.float32, "cpu")
    assert z.shape == shape and z.dtype == torch.float32 and z.is_contiguous()
    assert not z.any()


def _two_material_mesh() -> Mesh:
    """Two textured quads side by side plus an untextured one, each its own material."""
    quads, uvs, faces = [], [], []
    for i, x in enumerate((-0.45, 0.0, 0.45)):
        q = make_quad(half=0.2)
        quads.append(q.vertices + [x, 0.0, 0.0])
        uvs.append(q.uv * 1.5 - 0.25)  # reaches outside [0, 1]: wrapping
        faces.append(q.faces + 4 * i)
    rng = np.random.default_rng(0)
    mats = [Material(base_color_texture=quadrant_texture(8)),
            Material(base_color_factor=np.array([0.5, 0.8, 1.0, 1.0], dtype=np.float32),
                     base_color_texture=(rng.random((5, 7, 4)) * 255).astype(np.uint8)),
            Material(base_color_factor=np.array([0.2, 0.4, 0.6, 1.0], dtype=np.float32))]
    return Mesh(np.concatenate(quads), np.concatenate(faces), uv=np.concatenate(uvs),
                vertex_colors=rng.random((12, 4)) * 0.5 + 0.5, face_material=np.repeat([0, 1, 2], 2),
                materials=mats)


def _reference_rgb(mesh: MeshTensors, frags, textures, background) -> torch.Tensor:
    """Straightforward per-pixel shading (unlit) with the plain-autograd sampler, ssaa 1."""
    n, h, w = frags.face_id.shape
    fid = frags.face_id.reshape(-1)
    pix = torch.nonzero(fid >= 0).squeeze(1)
    f = fid[pix]
    bary = frags.bary.reshape(-1, 3)[pix].double()
    interp = lambda a: (a.double()[mesh.faces[f]] * bary[..., None]).sum(1)
    uv, vc = interp(mesh.uv), interp(mesh.vertex_colors)
    mat = mesh.face_material[f]
    color = mesh.base_color_factors.double()[mat, :3] * vc[:, :3]
    for m, tex in enumerate(textures):
        if tex is not None:
            sel = mat == m
            term = torch.ones(len(pix), 3, dtype=torch.float64)
            term[sel] = sample_texture_reference(tex.double(), uv[sel])[:, :3]
            color = color * term
    rgb = torch.tensor(background, dtype=torch.float64).repeat(n * h * w, 1)
    rgb = rgb.index_put((pix,), color)
    return rgb.reshape(n, h, w, 3).permute(0, 3, 1, 2)


def test_multi_material_shading_matches_reference_and_gradients():
    mesh = MeshTensors.from_mesh(_two_material_mesh())
    cams = rig_cameras(48)[[2]]
    frags = rasterize(mesh, cams, backend="torch")
    texs = [t if t is None else t.double().requires_grad_(True) for t in mesh.textures]
    out = shade(mesh, frags, textures=texs, background=(0.1, 0.2, 0.3))
    ref = _reference_rgb(mesh, frags, texs, (0.1, 0.2, 0.3))
    assert (out.alpha > 0).sum() > 300
    torch.testing.assert_close(out.rgb, ref)
    weights = torch.rand_like(ref)
    grads = torch.autograd.grad((out.rgb * weights).sum(), [texs[0], texs[1]])
    grads_ref = torch.autograd.grad((ref * weights).sum(), [texs[0], texs[1]])
    for g, gr in zip(grads, grads_ref):
        assert g.abs().sum() > 0
        torch.testing.assert_close(g, gr)


def test_setup_is_reused_and_invalidated_by_inplace_changes():
    mesh = MeshTensors.from_mesh(make_quad(quadrant_texture(8), half=0.3))
    frags = rasterize(mesh, rig_cameras(24)[[2]], backend="torch")
    first = shade(mesh, frags)
    setup = shading_setup(mesh, frags, "unlit", torch.float32, 1)
    second = shade(mesh, frags)
    assert shading_setup(mesh, frags, "unlit", torch.float32, 1) is setup
    torch.testing.assert_close(first.rgb, second.rgb)
    # Shifting the UVs in place by half the texture swaps the quadrants: a stale cache would not.
    mesh.uv += 0.5
    moved = shade(mesh, frags)
    assert shading_setup(mesh, frags, "unlit", torch.float32, 1) is not setup
    assert (moved.rgb - first.rgb).abs().amax() > 0.5
    # A caller scribbling on a returned image does not poison later calls.
    moved.alpha.zero_()
    again = shade(mesh, frags)
    assert again.alpha.sum() > 20
    torch.testing.assert_close(again.rgb, moved.rgb)


def test_optimised_vertex_colours_are_not_cached():
    mesh = MeshTensors.from_mesh(make_quad(quadrant_texture(8), half=0.3))
    mesh.vertex_colors = torch.full((4, 4), 0.5)
    frags = rasterize(mesh, rig_cameras(24)[[2]], backend="torch")
    vc = mesh.vertex_colors.clone().requires_grad_(True)
    m2 = dataclasses.replace(mesh, vertex_colors=vc)
    shade(m2, frags).rgb.sum().backward()
    assert vc.grad.abs().sum() > 0
    with torch.no_grad():
        vc.mul_(2)
    doubled = shade(m2, frags)
    base = shade(mesh, frags)
    fg = base.alpha > 0
    torch.testing.assert_close((doubled.rgb[fg.expand_as(base.rgb)]), 2 * base.rgb[fg.expand_as(base.rgb)])


def test_ssaa_and_diffuse_match_uncached_formula():
    mesh = MeshTensors.from_mesh(_two_material_mesh())
    mesh = dataclasses.replace(mesh, vertex_colors=None)
    cams = orbit_cameras([170.0], [15.0], resolution=20)
    frags = rasterize(mesh, cams, backend="torch", ssaa=2)
    out = shade(mesh, frags, shading="diffuse")
    # Same fragments, fresh object each time: the set-up is rebuilt, results must agree.
    fresh = dataclasses.replace(frags)
    out2 = shade(mesh, fresh, shading="diffuse")
    torch.testing.assert_close(out.rgb, out2.rgb)
    # ssaa: alpha is the block mean of coverage, rgb the block mean of premultiplied colour.
    full = shade(mesh, dataclasses.replace(frags, ssaa=1), shading="diffuse", background=(0.0, 0.0, 0.0))
    torch.testing.assert_close(out.alpha, F.avg_pool2d(full.alpha, 2))
    torch.testing.assert_close(out.rgb - (1 - out.alpha), F.avg_pool2d(full.rgb, 2), atol=1e-6, rtol=1e-5)
