"""Visibility: projection, an independent per-pixel reference, tie rules, chunking, backends."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from raster_reference import naive_reference
from render_meshes import make_cube, make_grid_mesh, make_quad

from photo3d.cameras import intrinsics, look_at, orbit_cameras, rig_cameras
from photo3d.render import MeshTensors, available_backends, get_rasterizer, rasterize
from photo3d.render.raster_setup import project_vertices
from photo3d.render.raster_torch import TorchRasterizer

HAS_GL = available_backends()["gl"]


def _cams(c2w, K, w, h):
    return torch.from_numpy(np.asarray(c2w)).reshape(-1, 4, 4), torch.from_numpy(np.asarray(K)).reshape(-1, 3, 3)


def test_projection_matches_camera_formula():
    cams = orbit_cameras([30.0, 200.0], [10.0, -25.0], radius=2.0, resolution=64)
    pts = torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.0, 0.0], [-0.4, 0.25, -0.1]])
    xy, z = project_vertices(pts, torch.from_numpy(cams.c2w), torch.from_numpy(cams.K))
    for n in range(len(cams)):
        w2c = np.linalg.inv(cams.c2w[n])
        cam = pts.double().numpy() @ w2c[:3, :3].T + w2c[:3, 3]
        uvw = cam @ cams.K[n].T
        np.testing.assert_allclose(xy[n].numpy(), uvw[:, :2] / uvw[:, 2:], atol=1e-3)
        np.testing.assert_allclose(z[n].numpy(), cam[:, 2], atol=1e-5)
    # The origin projects to the principal point of every orbit camera.
    np.testing.assert_allclose(xy[:, 1].numpy(), 32.0, atol=1e-4)


def test_small_triangle_lands_on_projected_pixel():
    cams = orbit_cameras([75.0], [15.0], resolution=48)
    point = np.array([0.12, -0.05, 0.2])
    right, down = cams.c2w[0, :3, 0], cams.c2w[0, :3, 1]
    # An equilateral triangle (about 2 px in radius) centred on the point, facing the camera.
    tri = np.array([point + 0.05 * (np.cos(t) * right + np.sin(t) * down) for t in np.radians([90, 210, 330])])
    mesh = MeshTensors(torch.tensor(tri, dtype=torch.float32), torch.tensor([[0, 1, 2]]), None, None,
                       torch.zeros(3, 3), torch.zeros(1, dtype=torch.int64), [None], torch.ones(1, 4))
    frags = rasterize(mesh, cams, backend="torch")
    w2c = np.linalg.inv(cams.c2w[0])
    uvw = cams.K[0] @ (w2c[:3, :3] @ point + w2c[:3, 3])
    u, v = uvw[:2] / uvw[2]
    i, j = int(np.floor(v)), int(np.floor(u))
    assert frags.face_id[0, i, j] == 0
    assert 3 <= frags.mask.sum() <= 30
    assert abs(frags.depth[0, i, j].item() - uvw[2]) < 1e-3


def test_torch_matches_naive_reference():
    rng = np.random.default_rng(3)
    verts = rng.uniform(-0.6, 0.6, size=(24, 3))
    faces = np.arange(24).reshape(8, 3)
    c2w = look_at(np.array([0.3, -1.3, 0.4]))
    K = intrinsics(60.0, 20, 16)
    ref_id, ref_depth, margin = naive_reference(verts, faces, c2w, K, 20, 16)
    frags = TorchRasterizer().rasterize(torch.tensor(verts, dtype=torch.float32), torch.tensor(faces),
                                        *_cams(c2w, K, 20, 16), 20, 16)
    clear = margin > 1e-4
    assert (ref_id >= 0).sum() > 50  # the scene covers a good part of the image
    assert len(np.unique(ref_id)) >= 5
    np.testing.assert_array_equal(frags.face_id[0].numpy()[clear], ref_id[clear])
    np.testing.assert_allclose(frags.depth[0].numpy()[clear & (ref_id >= 0)], ref_depth[clear & (ref_id >= 0)], rtol=1e-4)


def test_barycentrics_are_perspective_correct():
    # A slanted quad: interpolating world positions with the barycentrics must give points on the
    # camera ray at the returned depth.
    mesh = MeshTensors.from_mesh(make_quad())
    mesh.vertices[:, 1] += mesh.vertices[:, 0] * 0.8  # tilt in depth
    cams = orbit_cameras([200.0], [20.0], resolution=24)
    frags = rasterize(mesh, cams, backend="torch")
    m = frags.mask[0]
    pts = (mesh.vertices[mesh.faces[frags.face_id[0][m]]] * frags.bary[0][m][..., None]).sum(1).double().numpy()
    w2c = np.linalg.inv(cams.c2w[0])
    cam = pts @ w2c[:3, :3].T + w2c[:3, 3]
    uvw = cam @ cams.K[0].T
    rows, cols = torch.nonzero(m, as_tuple=True)
    np.testing.assert_allclose(uvw[:, 0] / uvw[:, 2], cols.numpy() + 0.5, atol=2e-3)
    np.testing.assert_allclose(uvw[:, 1] / uvw[:, 2], rows.numpy() + 0.5, atol=2e-3)
    np.testing.assert_allclose(cam[:, 2], frags.depth[0][m].numpy(), rtol=1e-4)


def test_shared_edges_have_no_holes_or_double_coverage():
    # A fan of triangles around a vertex placed exactly on a pixel centre, with edges through
    # pixel centres: every pixel inside the square is covered exactly once.
    n = 16
    c2w = np.eye(4)
    K = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1]])  # pixel coords = camera x/z, y/z
    ring = np.array([[2.5, 2.5], [8.5, 2.5], [13.5, 2.5], [13.5, 8.5], [13.5, 13.5], [8.5, 13.5],
                     [2.5, 13.5], [2.5, 8.5]])
    center = np.array([[8.5, 8.5]])
    xy = np.concatenate([center, ring])
    verts = np.concatenate([xy, np.ones((len(xy), 1))], 1)
    faces = np.array([[0, 1 + k, 1 + (k + 1) % 8] for k in range(8)])
    rast = TorchRasterizer()
    t_c2w, t_K = _cams(c2w, K, n, n)
    frags = rast.rasterize(torch.tensor(verts, dtype=torch.float32), torch.tensor(faces), t_c2w, t_K, n, n)
    counts = np.zeros((n, n), dtype=int)
    for f in range(len(faces)):
        one = rast.rasterize(torch.tensor(verts, dtype=torch.float32), torch.tensor(faces[f:f + 1]), t_c2w, t_K, n, n)
        counts += one.mask[0].numpy()
    # Top-left rule over the square [2.5, 13.5]^2: columns 2..12 and rows 2..12 (right/bottom open).
    expected = np.zeros((n, n), dtype=int)
    expected[2:13, 2:13] = 1
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(frags.mask[0].numpy(), expected.astype(bool))


def test_faces_behind_near_plane_are_skipped():
    cams = orbit_cameras([0.0], [0.0], radius=0.3, resolution=16)  # camera inside a 0.6 cube
    mesh = MeshTensors.from_mesh(make_cube(size=0.6))
    frags = rasterize(mesh, cams, backend="torch")
    assert frags.mask.any()  # the back wall is seen
    seen = torch.unique(frags.face_id[frags.mask])
    z = project_vertices(mesh.vertices, torch.from_numpy(cams.c2w), torch.from_numpy(cams.K))[1][0]
    assert (z[mesh.faces[seen]] > cams.near).all()


def test_chunking_gives_identical_fragments_on_large_mesh():
    mesh = MeshTensors.from_mesh(make_grid_mesh(500))  # 500k faces
    assert mesh.num_faces == 500_000
    cams = rig_cameras(64)[[2]]
    c2w, K = torch.from_numpy(cams.c2w), torch.from_numpy(cams.K)
    big = TorchRasterizer().rasterize(mesh.vertices, mesh.faces, c2w, K, 64, 64)
    small = TorchRasterizer(max_candidates=1 << 14).rasterize(mesh.vertices, mesh.faces, c2w, K, 64, 64)
    assert big.mask.float().mean() > 0.3
    assert torch.equal(big.face_id, small.face_id)
    assert torch.equal(big.depth, small.depth)


def test_big_triangles_are_tiled():
    # Two triangles covering most of a 100x100 image exercise the >32 px tiling path.
    mesh = MeshTensors.from_mesh(make_quad(half=0.5))
    cams = rig_cameras(100)[[2]]
    frags = rasterize(mesh, cams, backend="torch")
    ref = rasterize(mesh, cams, backend="torch")
    assert frags.mask.float().mean() > 0.3
    rows, cols = torch.nonzero(frags.mask[0], as_tuple=True)
    # The square projects to a square: a solid block with no holes.
    block = frags.mask[0, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert block.all()
    assert torch.equal(frags.face_id, ref.face_id)


def test_unknown_backend_is_one_clear_error():
    from photo3d.errors import InputError

    with pytest.raises(InputError, match="unknown render backend"):
        get_rasterizer("vulkan")
    with pytest.raises(InputError, match="CUDA"):
        get_rasterizer("nvdiffrast", "cpu")


@pytest.mark.skipif(not HAS_GL, reason="no headless OpenGL (EGL) context here")
def test_gl_agrees_with_torch(sugar_box_path):
    from photo3d.assets import load_asset

    mesh = MeshTensors.from_mesh(load_asset(sugar_box_path).mesh)
    cams = orbit_cameras([0.0, 130.0, 250.0], [0.0, 25.0, -15.0], resolution=96)
    a = rasterize(mesh, cams, backend="torch")
    b = rasterize(mesh, cams, backend="gl")
    assert a.mask.float().mean() > 0.05
    differ = (a.face_id != b.face_id).float().mean().item()
    assert differ < 0.01
    same = (a.face_id == b.face_id) & a.mask
    assert torch.allclose(a.bary[same], b.bary[same]) and torch.allclose(a.depth[same], b.depth[same])
    from photo3d.render import shade

    rgb_a, rgb_b = shade(mesh, a).rgb, shade(mesh, b).rgb
    assert (rgb_a - rgb_b).abs().mean().item() < 0.01


@pytest.mark.skipif(not HAS_GL, reason="no headless OpenGL (EGL) context here")
def test_auto_backend_on_cpu_is_gl_when_available():
    assert get_rasterizer("auto", "cpu").name == "gl"


@pytest.mark.gpu
def test_nvdiffrast_agrees_with_torch(cube):
    pytest.importorskip("nvdiffrast")
    mesh = MeshTensors.from_mesh(cube)
    cams = rig_cameras(64)
    a = rasterize(mesh, cams, backend="torch")
    b = rasterize(mesh.to("cuda"), cams, backend="nvdiffrast")
    assert (a.face_id != b.face_id.cpu()).float().mean().item() < 0.01
    same = (a.face_id == b.face_id.cpu()) & a.mask
    assert torch.allclose(a.depth[same], b.depth.cpu()[same], atol=1e-4)
