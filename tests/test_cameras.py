import json
import math

import numpy as np
import pytest

from photo3d.cameras import (
    RIG_FOV_DEG,
    RIG_RADIUS,
    Cameras,
    heldout_cameras,
    intrinsics,
    look_at,
    orbit_cameras,
    random_cameras,
    rig_cameras,
    ring_cameras,
)


def project(cams: Cameras, i: int, point) -> tuple[np.ndarray, float]:
    """Pixel coordinates and depth of a world point in camera i."""
    p = cams.w2c[i] @ np.append(np.asarray(point, dtype=np.float64), 1.0)
    uvw = cams.K[i] @ p[:3]
    return uvw[:2] / uvw[2], p[2]


def test_rig_matches_the_stated_formulas():
    cams = rig_cameras()
    assert len(cams) == 4 and cams.width == cams.height == 512
    np.testing.assert_allclose(cams.yaw_deg, [0, 90, 180, 270])
    for i, yaw in enumerate([0.0, 90.0, 180.0, 270.0]):
        a = math.radians(yaw)
        expected = RIG_RADIUS * np.array([math.sin(a), math.cos(a), 0.0])
        np.testing.assert_allclose(cams.centers[i], expected, atol=1e-12)
    # vertical FoV 39.6 degrees: a point on the top edge of the frustum projects to row 0
    f = cams.K[0, 1, 1]
    assert math.isclose(2 * math.degrees(math.atan(256 / f)), RIG_FOV_DEG, rel_tol=1e-9)


def test_rig_looks_at_origin_with_z_up():
    cams = rig_cameras()
    for i in range(4):
        uv, depth = project(cams, i, (0, 0, 0))
        np.testing.assert_allclose(uv, [256, 256], atol=1e-9)
        assert math.isclose(depth, RIG_RADIUS)
        uv_up, _ = project(cams, i, (0, 0, 0.3))
        assert uv_up[1] < 256  # +Z is up in the image (smaller row)


def test_front_camera_sees_plus_x_on_the_right():
    cams = rig_cameras()
    front = 2  # yaw 180 sits at -Y and sees the glTF front
    np.testing.assert_allclose(cams.centers[front], [0, -RIG_RADIUS, 0], atol=1e-12)
    uv, _ = project(cams, front, (0.3, 0, 0))
    assert uv[0] > 256


def test_orbit_pitch_and_broadcast():
    cams = orbit_cameras([0, 90], pitches_deg=30.0, radius=2.0, resolution=64)
    assert cams.centers[0, 2] == pytest.approx(2.0 * math.sin(math.radians(30)))
    assert cams.width == 64 and cams.K[0, 0, 2] == 32


def test_look_at_is_orthonormal_even_straight_down():
    for eye in [(1, 2, 3), (0, 0, 2)]:
        R = look_at(np.array(eye, dtype=float))[:3, :3]
        np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) == pytest.approx(1.0)


def test_ring_random_heldout():
    ring = ring_cameras(8, pitches_deg=(-20, 20))
    assert len(ring) == 16
    assert sorted(set(np.round(ring.pitch_deg, 6))) == [-20, 20]
    r1, r2 = random_cameras(5, seed=3), random_cameras(5, seed=3)
    np.testing.assert_array_equal(r1.c2w, r2.c2w)
    held = heldout_cameras()
    assert not set(np.round(held.yaw_deg) % 360) & {0, 90, 180, 270}


def test_json_round_trip_and_indexing():
    cams = ring_cameras(3, resolution=32)
    back = Cameras.from_json(json.loads(json.dumps(cams.to_json())))
    np.testing.assert_allclose(back.c2w, cams.c2w)
    np.testing.assert_allclose(back.K, cams.K)
    np.testing.assert_allclose(back.yaw_deg, cams.yaw_deg)
    sub = cams[1:]
    assert len(sub) == 2 and sub.yaw_deg[0] == cams.yaw_deg[1]
    with pytest.raises(ValueError):
        Cameras.from_json({"cameras": [{"c2w": [1, 2]}]})


def test_resized_keeps_fov():
    cams = rig_cameras().resized(128)
    np.testing.assert_allclose(cams.K[0], intrinsics(RIG_FOV_DEG, 128))
