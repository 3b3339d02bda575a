"""Seeded area-weighted surface sampling."""

import numpy as np
import pytest

from photo3d.assets import Mesh, sample_surface
from photo3d.errors import AssetError


def _two_triangles(scale_second: float = 3.0) -> Mesh:
    # two right triangles in z = 0 (area 0.5) and z = 1 (area 0.5 * scale^2), normals +z
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [scale_second, 0, 1], [0, scale_second, 1]], float)
    return Mesh(vertices=v, faces=np.array([[0, 1, 2], [3, 4, 5]]))


def test_points_lie_on_their_faces_with_unit_face_normals():
    s = sample_surface(_two_triangles(), 4000, seed=1)
    assert s.points.shape == (4000, 3) and s.normals.shape == (4000, 3)
    assert np.allclose(s.normals, [0, 0, 1])
    assert np.allclose(s.bary.sum(1), 1) and (s.bary >= -1e-12).all()
    assert np.allclose(s.points[:, 2], s.face)  # face 0 at z = 0, face 1 at z = 1


def test_faces_are_drawn_by_area_and_the_seed_fixes_the_draw():
    s = sample_surface(_two_triangles(3.0), 20000, seed=0)
    assert abs(s.face.mean() - 9 / 10) < 0.01  # areas 0.5 and 4.5
    again, other = sample_surface(_two_triangles(3.0), 20000, seed=0), sample_surface(_two_triangles(3.0), 20000, seed=1)
    assert np.array_equal(s.points, again.points) and not np.array_equal(s.points, other.points)


def test_degenerate_meshes_are_reported():
    flat = Mesh(vertices=np.zeros((3, 3)), faces=np.array([[0, 1, 2]]))
    with pytest.raises(AssetError, match="zero area"):
        sample_surface(flat, 10)
    with pytest.raises(AssetError, match="no faces"):
        sample_surface(Mesh(vertices=np.zeros((3, 3)), faces=np.zeros((0, 3), int)), 10)
