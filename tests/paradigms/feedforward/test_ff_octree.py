"""Mesh -> octree: the network frame, voxel centres, ND features, seeds, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ff_meshes import box_mesh
from photo3d.assets import Mesh, load_asset
from photo3d.errors import AssetError
from photo3d.paradigms.feedforward.octree import WORLD_TO_NET, build_octree_batch, frame_scale, mesh_points


def test_world_to_network_axes_turn_z_up_into_y_up():
    assert np.allclose(WORLD_TO_NET @ [0, 0, 1], [0, 1, 0])    # world up -> network +y (glTF up)
    assert np.allclose(WORLD_TO_NET @ [0, -1, 0], [0, 0, 1])   # world -y (the glTF front) -> +z
    assert np.allclose(WORLD_TO_NET @ WORLD_TO_NET.T, np.eye(3))


def test_leaf_centres_sit_on_the_surface_in_world_coordinates():
    box = box_mesh()
    b = build_octree_batch([box], 20000, depth=6, full_depth=3)
    voxel = b.voxel_size[0]
    assert voxel == pytest.approx(2 / 64)
    c = b.centres.double().numpy()
    half = np.array([0.5, 0.2, 0.3])
    # every centre is within half a voxel diagonal of the box surface, and inside its bounds + slack
    dist_to_faces = np.abs(np.abs(c) - half).min(axis=1)
    assert (np.abs(c) <= half + voxel).all() and (dist_to_faces <= 0.5 * voxel * 3**0.5 + 1e-9).all()
    assert b.features.shape == (len(c), 4) and b.counts == [len(c)]
    n = b.features[:, :3]
    assert torch.allclose(n.norm(dim=1), torch.ones(len(n)), atol=1e-5)
    assert (b.features[:, 3].abs() <= 0.5 * 3**0.5 + 1e-5).all()  # displacement within the voxel


def test_voxel_centres_not_corners():
    # a plane at world z = 0 (network y = 0) lands in the voxels just above/below it: centres at +-half voxel
    plane = Mesh(vertices=np.array([[-0.4, -0.4, 0.001], [0.4, -0.4, 0.001], [0.4, 0.4, 0.001], [-0.4, 0.4, 0.001]]),
                 faces=np.array([[0, 1, 2], [0, 2, 3]]))
    b = build_octree_batch([plane], 5000, depth=5, full_depth=2)
    assert np.allclose(b.centres[:, 2].numpy(), 0.5 * 2 / 32)


def test_unit_sphere_frame_and_batches():
    box = box_mesh((0.25, 0.1, 0.1))
    s = frame_scale(box.vertices, "unit_sphere")
    assert s == pytest.approx(1 / np.linalg.norm([0.25, 0.1, 0.1]))
    pts, _nrm, _ = mesh_points(box, 1000, "unit_sphere", seed=0)
    assert float(pts.norm(dim=1).max()) <= 1.0
    b = build_octree_batch([box, box_mesh()], 8000, depth=5, full_depth=2, normalize="unit_sphere", seeds=[3, 4])
    assert len(b.counts) == 2 and sum(b.counts) == len(b.centres) == len(b.features)
    assert b.scales[0] == pytest.approx(s)
    first = b.centres[: b.counts[0]].numpy()
    assert (np.abs(first) <= [0.25 + 0.05, 0.1 + 0.05, 0.1 + 0.05]).all()  # back in world units


def test_seeds_fix_the_points():
    mesh = load_asset(__import__("pathlib").Path(__file__).parents[3] / "src/photo3d/examples/mv_tiny/0/mesh.obj",
                      normalize=False).mesh
    a, _, _ = mesh_points(mesh, 500, "none", seed=0)
    b, _, _ = mesh_points(mesh, 500, "none", seed=0)
    c, _, _ = mesh_points(mesh, 500, "none", seed=1)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_meshes_outside_the_octree_are_refused():
    with pytest.raises(AssetError, match=r"outside the octree.*--normalize unit_sphere"):
        mesh_points(box_mesh((3.0, 1.0, 1.0)), 100, "none", seed=0)
    pts, _, s = mesh_points(box_mesh((3.0, 1.0, 1.0)), 100, "unit_sphere", seed=0)
    assert s < 1 and float(pts.abs().max()) < 1
