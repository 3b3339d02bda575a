"""Orthographic views: analytic projection, affine barycentrics, backends agreeing, shading."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from raster_reference import naive_reference
from render_meshes import make_cube, make_quad

from photo3d.cameras import look_at, orbit_cameras, orthographic_intrinsics, step1x3d_rig_cameras
from photo3d.render import MeshTensors, available_backends, rasterize, shade
from photo3d.render.raster_setup import clip_matrices, project_vertices
from photo3d.render.raster_torch import TorchRasterizer

HAS_GL = available_backends()["gl"]


def test_projection_is_the_parallel_formula():
    cams = orbit_cameras([30.0, 200.0], [10.0, -25.0], radius=2.0, resolution=64, ortho_half_extent=0.6)
    pts = torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.0, 0.0], [-0.4, 0.25, -0.1]])
    xy, z = project_vertices(pts, torch.from_numpy(cams.c2w), torch.from_numpy(cams.K), orthographic=True)
    for n in range(len(cams)):
        w2c = np.linalg.inv(cams.c2w[n])
        cam = pts.double().numpy() @ w2c[:3, :3].T + w2c[:3, 3]
        np.testing.assert_allclose(xy[n].numpy(), cam[:, :2] * 64 / 1.2 + 32, atol=1e-3)
        np.testing.assert_allclose(z[n].numpy(), cam[:, 2], atol=1e-5)


def test_clip_matrices_reproduce_the_projection():
    cams = step1x3d_rig_cameras(48)
    pts = torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.1, -0.3]], dtype=torch.float64)
    c2w, K = torch.from_numpy(cams.c2w), torch.from_numpy(cams.K)
    clip = torch.einsum("nij,vj->nvi", clip_matrices(c2w, K, 48, 48, 0.05, 100.0, orthographic=True),
                        torch.cat([pts, torch.ones(2, 1, dtype=torch.float64)], 1))
    assert torch.allclose(clip[..., 3], torch.ones(6, 2, dtype=torch.float64))
    ndc_to_pixel = (clip[..., :2] + 1) * 24
    xy, z = project_vertices(pts.float(), c2w, K, orthographic=True)
    assert torch.allclose(ndc_to_pixel.float(), xy, atol=1e-3)
    # GL depth is linear in z for a parallel projection: -1 at near, +1 at far.
    assert torch.allclose(clip[..., 2].float(), (2 * z - 100.05) / 99.95, atol=1e-5)


def test_torch_matches_naive_orthographic_reference():
    rng = np.random.default_rng(4)
    verts = rng.uniform(-0.6, 0.6, size=(24, 3))
    faces = np.arange(24).reshape(8, 3)
    c2w = look_at(np.array([0.3, -1.3, 0.4]))
    K = orthographic_intrinsics(0.5, 20, 16)
    ref_id, ref_depth, margin = naive_reference(verts, faces, c2w, K, 20, 16, orthographic=True)
    frags = TorchRasterizer().rasterize(torch.tensor(verts, dtype=torch.float32), torch.tensor(faces),
                                        torch.from_numpy(c2w)[None], torch.from_numpy(K)[None], 20, 16,
                                        orthographic=True)
    clear = margin > 1e-4
    assert (ref_id >= 0).sum() > 50 and len(np.unique(ref_id)) >= 5
    np.testing.assert_array_equal(frags.face_id[0].numpy()[clear], ref_id[clear])
    hit = clear & (ref_id >= 0)
    np.testing.assert_allclose(frags.depth[0].numpy()[hit], ref_depth[hit], rtol=1e-4)


def test_cube_silhouette_is_the_projected_hull_at_any_distance(cube):
    # A parallel projection keeps parallel edges parallel: the cube's silhouette is the convex
    # hull of its projected corners, whatever the distance (a perspective view shrinks with it).
    mesh = MeshTensors.from_mesh(cube)
    masks = []
    for radius in (1.8, 5.0):
        cams = orbit_cameras([35.0], [25.0], radius=radius, resolution=96, ortho_half_extent=0.6)
        masks.append(rasterize(mesh, cams, backend="torch").mask[0])
    assert torch.equal(masks[0], masks[1])
    corners = np.array([[x, y, z] for x in (-0.3, 0.3) for y in (-0.3, 0.3) for z in (-0.3, 0.3)])
    xy, _ = project_vertices(torch.tensor(corners, dtype=torch.float32), torch.from_numpy(cams.c2w),
                             torch.from_numpy(cams.K), orthographic=True)
    xy = xy[0].double().numpy()
    for a, b in [(0, 4), (1, 5), (2, 6), (3, 7)]:  # the four edges along world X stay parallel
        d0, d = xy[4] - xy[0], xy[b] - xy[a]
        assert abs(d0[0] * d[1] - d0[1] * d[0]) < 1e-3 * np.dot(d0, d0)
    from scipy.spatial import ConvexHull, Delaunay

    hull = Delaunay(xy[ConvexHull(xy).vertices])
    jj, ii = np.meshgrid(np.arange(96) + 0.5, np.arange(96) + 0.5)
    inside = hull.find_simplex(np.stack([jj.ravel(), ii.ravel()], 1)).reshape(96, 96) >= 0
    disagree = inside != masks[0].numpy()
    assert disagree.sum() <= 0.02 * inside.sum()  # edge pixels only (ties, float rounding)


def test_barycentrics_are_affine_and_depth_is_camera_z():
    mesh = MeshTensors.from_mesh(make_quad())
    mesh.vertices[:, 1] += mesh.vertices[:, 0] * 0.8  # tilt in depth
    cams = orbit_cameras([200.0], [20.0], resolution=24, ortho_half_extent=0.7)
    frags = rasterize(mesh, cams, backend="torch")
    m = frags.mask[0]
    pts = (mesh.vertices[mesh.faces[frags.face_id[0][m]]] * frags.bary[0][m][..., None]).sum(1)
    xy, z = project_vertices(pts, torch.from_numpy(cams.c2w), torch.from_numpy(cams.K), orthographic=True)
    ii, jj = torch.nonzero(m, as_tuple=True)
    assert torch.allclose(xy[0], torch.stack([jj, ii], 1).float() + 0.5, atol=2e-3)
    assert torch.allclose(z[0], frags.depth[0][m], atol=1e-5)


@pytest.mark.skipif(not HAS_GL, reason="no headless OpenGL (EGL) context here")
def test_gl_agrees_with_torch_orthographic(sugar_box_path):
    from photo3d.assets import load_asset

    mesh = MeshTensors.from_mesh(load_asset(sugar_box_path).mesh)
    cams = step1x3d_rig_cameras(96)
    a = rasterize(mesh, cams, backend="torch")
    b = rasterize(mesh, cams, backend="gl")
    assert a.mask.float().mean() > 0.05
    assert (a.face_id != b.face_id).float().mean().item() < 0.01
    same = (a.face_id == b.face_id) & a.mask
    assert torch.allclose(a.bary[same], b.bary[same]) and torch.allclose(a.depth[same], b.depth[same])
    rgb_a, rgb_b = shade(mesh, a).rgb, shade(mesh, b).rgb
    assert (rgb_a - rgb_b).abs().mean().item() < 0.01


def test_headlight_of_an_orthographic_view_is_uniform_on_a_plane():
    # Every ray of a parallel projection has the same direction, so a flat face is lit evenly;
    # a perspective headlight varies across it.
    mesh = MeshTensors.from_mesh(make_quad())
    lambert = {}
    for name, half in (("ortho", 0.7), ("persp", None)):
        cams = orbit_cameras([200.0], [20.0], radius=1.2, resolution=32, ortho_half_extent=half)
        out = shade(mesh, rasterize(mesh, cams, backend="torch"), shading="diffuse")
        lit = out.rgb[0, 0][out.alpha[0, 0] > 0]
        lambert[name] = float(lit.max() - lit.min())
    assert lambert["ortho"] < 1e-5 < 1e-3 < lambert["persp"]


@pytest.mark.gpu
def test_nvdiffrast_agrees_with_torch_orthographic():
    pytest.importorskip("nvdiffrast")
    mesh = MeshTensors.from_mesh(make_cube())
    cams = step1x3d_rig_cameras(64)
    a = rasterize(mesh, cams, backend="torch")
    b = rasterize(mesh.to("cuda"), cams, backend="nvdiffrast")
    assert (a.face_id != b.face_id.cpu()).float().mean().item() < 0.01
    same = (a.face_id == b.face_id.cpu()) & a.mask
    assert torch.allclose(a.depth[same], b.depth.cpu()[same], atol=1e-4)
