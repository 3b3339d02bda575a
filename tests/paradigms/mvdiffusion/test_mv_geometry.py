"""The Step1X-3D rig in our conventions, geometry condition maps, reprojected targets, reference images."""

from __future__ import annotations

import math

import numpy as np
import torch

from photo3d.cameras import rig_cameras
from photo3d.paradigms.mvdiffusion.conditions import prepare_reference, render_geometry
from photo3d.paradigms.mvdiffusion.rig import AZIMUTHS_DEG, ELEVATIONS_DEG, MODEL_FROM_GRID, step1x_cameras
from photo3d.paradigms.mvdiffusion.targets import project_colours, reproject_targets
from photo3d.render import MeshTensors, render_views


def test_rig_directions_match_upstreams_formula_and_the_photo3d_yaws():
    cams = step1x_cameras(32)
    for i, (a, e) in enumerate(zip(AZIMUTHS_DEG, ELEVATIONS_DEG)):
        a, e = math.radians(a), math.radians(e)
        upstream = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        c = cams.centers[i] / np.linalg.norm(cams.centers[i])
        assert np.allclose(c, upstream, atol=1e-9), i
    assert np.allclose(cams.centers[0] / np.linalg.norm(cams.centers[0]), [0, -1, 0])  # view 0 sees the front (-Y)
    grid = rig_cameras(32)
    for k, m in enumerate(MODEL_FROM_GRID):
        assert np.allclose(cams.centers[m] / np.linalg.norm(cams.centers[m]), grid.centers[k] / 1.7, atol=1e-9)
    # image "right" of the top view is world -X as upstream (right = lookat x up)
    assert np.allclose(cams.c2w[4][:3, 0], [-1, 0, 0], atol=1e-3)


def test_geometry_maps_of_a_cube(cube):
    mesh = MeshTensors.from_mesh(cube)
    geo = render_geometry(mesh, step1x_cameras(48))
    m = geo.mask[:, 0]
    assert m.any(dim=(1, 2)).all() and not m.all()
    pos = geo.position.permute(0, 2, 3, 1)[m]
    # every visible point is on the cube surface (rotated 30 degrees about Z, half side 0.3)
    t = math.radians(-30.0)
    rot = torch.tensor([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]], dtype=torch.float32)
    local = pos @ rot.T
    assert torch.allclose(local.abs().amax(-1), torch.full((len(local),), 0.3), atol=1e-4)
    nrm = geo.normal.permute(0, 2, 3, 1)[m]
    assert torch.allclose(nrm.norm(dim=-1), torch.ones(len(nrm)), atol=1e-4)
    ctrl = geo.control()
    assert ctrl.shape == (6, 6, 48, 48) and float(ctrl.min()) >= 0 and float(ctrl.max()) <= 1
    assert torch.all(ctrl.permute(0, 2, 3, 1)[~m] == 0.5)  # background: p = 0 and n = 0 after the offsets
    top = geo.normal[4].permute(1, 2, 0)[m[4]]
    assert torch.allclose(top.mean(0), torch.tensor([0.0, 0.0, 1.0]), atol=0.05)  # the top view sees the top


def test_edited_views_reproject_onto_the_model_views(cube):
    mesh = MeshTensors.from_mesh(cube)
    grid_cams = rig_cameras(96)
    edited = render_views(mesh, grid_cams, shading="unlit").rgb
    cams = step1x_cameras(64, 4)
    geo = render_geometry(mesh, cams)
    tg = reproject_targets(mesh, geo, edited, grid_cams, min_coverage=0.05)
    direct = render_views(mesh, cams, shading="unlit").rgb
    sil = tg.silhouette.expand(-1, 3, -1, -1)
    assert tg.mask.float().sum() > 0.97 * tg.silhouette.float().sum()
    err = (tg.images - direct).abs()[tg.mask.expand(-1, 3, -1, -1)]
    # exact inside the faces; only pixels on colour edges and silhouettes mix neighbours (bilinear)
    assert float(err.median()) < 0.005 and float(err.mean()) < 0.03
    assert torch.all(tg.images[~sil] == 1.0)


def test_points_no_view_sees_get_no_weight(cube):
    mesh = MeshTensors.from_mesh(cube)
    cams = rig_cameras(64)
    depth = render_geometry(mesh, cams).depth[:, 0]
    images = torch.rand(4, 3, 64, 64)
    pts = torch.tensor([[0.0, 0.0, 0.0], [0.1, -0.05, 0.1]])  # inside the cube: hidden from every view
    col, w = project_colours(pts, torch.tensor([[0.0, -1.0, 0.0]] * 2), images, cams, depth)
    assert torch.all(w == 0) and torch.all(col == 1.0)


def test_reference_image_is_centred_and_scaled_on_grey():
    img = torch.ones(3, 100, 80)
    img[:, 10:30, 5:45] = torch.tensor([0.2, 0.4, 0.6]).view(3, 1, 1)  # a 40 x 20 object
    ref = prepare_reference(img, 64)
    obj = (ref - 0.5).abs().amax(0) > 0.05
    ys, xs = torch.nonzero(obj, as_tuple=True)
    width = int(xs.max() - xs.min() + 1)
    assert abs(width - 0.9 * 64) <= 3 and abs(float(xs.float().mean()) - 31.5) <= 1.5
    assert abs(float(ys.float().mean()) - 31.5) <= 1.5
    assert torch.allclose(ref[:, 0, 0], torch.full((3,), 0.5))
    assert torch.allclose(ref[:, 32, 32], torch.tensor([0.2, 0.4, 0.6]), atol=0.02)
    assert torch.all(prepare_reference(torch.ones(3, 8, 8), 16) == 0.5)  # nothing to show: plain grey
