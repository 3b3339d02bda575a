import json
import math

import numpy as np
import pytest

from photo3d.cameras import (
    RIG_FOV_DEG,
    RIG_RADIUS,
    STEP1X3D_AZIMUTHS_DEG,
    STEP1X3D_ELEVATIONS_DEG,
    Cameras,
    heldout_cameras,
    intrinsics,
    look_at,
    orbit_cameras,
    orthographic_intrinsics,
    random_cameras,
    random_cameras_like,
    rig_cameras,
    ring_cameras,
    step1x3d_rig_cameras,
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


def test_orthographic_intrinsics_and_projection_formula():
    K = orthographic_intrinsics(0.55, 768)
    assert K[0, 0] == K[1, 1] == pytest.approx(768 / 1.1) and K[0, 2] == K[1, 2] == 384
    cams = orbit_cameras([0.0], 0.0, radius=1.8, resolution=768, ortho_half_extent=0.55)
    assert cams.is_orthographic and cams.ortho_half_extent[0] == pytest.approx(0.55)
    assert not rig_cameras().is_orthographic
    with pytest.raises(ValueError, match="orthographic cameras only"):
        rig_cameras().ortho_half_extent  # noqa: B018
    with pytest.raises(ValueError, match="projection"):
        Cameras(cams.c2w, cams.K, 8, 8, projection="fisheye")
    # Resizing keeps the extent (K scales with the image), indexing keeps the projection.
    assert cams.resized(64).ortho_half_extent[0] == pytest.approx(0.55) and cams[0].is_orthographic
    np.testing.assert_allclose(cams.forward[0], [0.0, -1.0, 0.0], atol=1e-12)


def test_orthographic_json_round_trip():
    cams = step1x3d_rig_cameras(64)
    doc = json.loads(json.dumps(cams.to_json()))
    assert doc["projection"] == "orthographic"
    back = Cameras.from_json(doc)
    assert back.is_orthographic
    np.testing.assert_allclose(back.c2w, cams.c2w)
    np.testing.assert_allclose(back.K, cams.K)
    del doc["projection"]  # files written before projections existed are perspective
    assert Cameras.from_json(doc).projection == "perspective"
    with pytest.raises(ValueError, match="projection"):
        Cameras.from_json({**doc, "projection": "fisheye"})


def _upstream_step1x3d_c2w(elev_deg, azim_deg, dist):
    """Step1X-3D's ``get_c2w`` written out from its formulas (OpenGL axes: right, up, backward)."""
    e, a = math.radians(elev_deg), math.radians(azim_deg)
    pos = dist * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    lookat = -pos / np.linalg.norm(pos)
    right = np.cross(lookat, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, lookat)
    up /= np.linalg.norm(up)
    return np.stack([right, up, -lookat], 1), pos


def test_step1x3d_rig_matches_the_upstream_camera_formula():
    cams = step1x3d_rig_cameras()
    assert len(cams) == 6 and cams.width == 768 and cams.is_orthographic
    np.testing.assert_allclose(cams.yaw_deg, [180, 90, 0, 270, 0, 0])
    np.testing.assert_allclose(cams.pitch_deg, STEP1X3D_ELEVATIONS_DEG)
    for i, (x, elev) in enumerate(zip(STEP1X3D_AZIMUTHS_DEG, STEP1X3D_ELEVATIONS_DEG)):
        rot, pos = _upstream_step1x3d_c2w(elev, x - 90.0, 1.8)
        np.testing.assert_allclose(cams.centers[i], pos, atol=1e-9)
        # OpenGL (right, up, backward) -> OpenCV (right, down, forward): negate y and z.
        np.testing.assert_allclose(cams.c2w[i, :3, :3], rot * np.array([1.0, -1.0, -1.0]), atol=1e-6)
    # View 0 sees the front: a glTF front faces -Y in the world frame.
    np.testing.assert_allclose(cams.forward[0], [0.0, 1.0, 0.0], atol=1e-12)
    # Top view: looking down from just behind the zenith; image up is world -Y (the front).
    assert cams.forward[4][2] < -0.999 and cams.c2w[4, 1, 1] > 0.999


def test_cat_and_random_cameras_like_keep_the_projection():
    rig = step1x3d_rig_cameras(32)
    extra = random_cameras_like(rig, 3, seed=1)
    assert extra.is_orthographic and len(extra) == 3 and (extra.width, extra.height) == (32, 32)
    np.testing.assert_allclose(extra.K, np.repeat(rig.K[:1], 3, 0))
    np.testing.assert_allclose(np.linalg.norm(extra.centers, axis=1), 1.8)
    assert np.all((extra.pitch_deg >= -30) & (extra.pitch_deg <= 60))
    both = Cameras.cat([rig, extra])
    assert len(both) == 9 and both.is_orthographic
    np.testing.assert_allclose(both.yaw_deg[6:], extra.yaw_deg)
    np.testing.assert_allclose(random_cameras_like(rig, 3, seed=1).c2w, extra.c2w)  # seeded
    with pytest.raises(ValueError, match="concatenate"):
        Cameras.cat([rig, rig_cameras(32)])
