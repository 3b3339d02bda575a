"""The Step1X-3D rig in our conventions, geometry condition maps, reprojected targets, reference images."""

from __future__ import annotations

import math

import numpy as np
import torch

from photo3d.cameras import STEP1X3D_AZIMUTHS_DEG, STEP1X3D_ELEVATIONS_DEG, rig_cameras, step1x3d_rig_cameras
from photo3d.paradigms.mvdiffusion.conditions import prepare_reference, render_geometry
from photo3d.paradigms.mvdiffusion.rig import MODEL_FROM_GRID
from photo3d.paradigms.mvdiffusion.targets import reproject_targets
from photo3d.render import MeshTensors, render_views


def test_rig_directions_match_upstreams_formula_and_the_photo3d_yaws():
    cams = step1x3d_rig_cameras(32)
    assert MODEL_FROM_GRID == (2, 1, 0, 3)
    for i, (x, e) in enumerate(zip(STEP1X3D_AZIMUTHS_DEG, STEP1X3D_ELEVATIONS_DEG)):
        a, e = math.radians(x - 90), math.radians(e)  # upstream: azimuth_deg = [x - 90 for x in ...]
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
    geo = render_geometry(mesh, step1x3d_rig_cameras(48))
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
    cams = step1x3d_rig_cameras(64)[:4]
    geo = render_geometry(mesh, cams)
    tg = reproject_targets(cube, geo, edited, grid_cams, min_coverage=0.05)
    direct = render_views(mesh, cams, shading="unlit").rgb
    sil = tg.silhouette.expand(-1, 3, -1, -1)
    # all but a pixel-wide band along silhouettes and depth jumps (unreliable in the grid views)
    assert tg.mask.float().sum() > 0.9 * tg.silhouette.float().sum()
    err = (tg.images - direct).abs()[tg.mask.expand(-1, 3, -1, -1)]
    # exact inside the faces; only pixels on colour edges and silhouettes mix neighbours (bilinear)
    assert float(err.median()) < 0.005 and float(err.mean()) < 0.03
    assert torch.all(tg.images[~sil] == 1.0)


def test_pixels_no_grid_view_sees_are_not_supervised(cube):
    mesh = MeshTensors.from_mesh(cube)
    grid_cams = rig_cameras(64)
    edited = render_views(mesh, grid_cams, shading="unlit").rgb
    top = step1x3d_rig_cameras(64)[4:5]  # the top face: pitch-0 grid views never see it
    geo = render_geometry(mesh, top)
    tg = reproject_targets(cube, geo, edited, grid_cams)
    assert tg.silhouette.float().mean() > 0.1 and not tg.mask.any()
    assert torch.all(tg.weight == 0) and torch.all(tg.images == 1.0)


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
