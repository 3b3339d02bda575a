"""The Step1X-3D / MV-Adapter ig2mv camera rig, in photo3d's camera conventions.

Upstream (``step1x3d_texture``, ``get_orthogonal_camera``) places camera ``i`` at
``d * (cos e cos a, cos e sin a, sin e)`` with azimuths ``a = [x - 90 for x in
[0, 90, 180, 270, 180, 180]]``, elevations ``e = [0, 0, 0, 0, 89.99, -89.99]``, ``d = 1.8``,
looking at the origin with +Z up, orthographic with half-extent 0.55, 768² views. Its mesh frame
(glTF Y-up mapped by "up +y, front +x", rescaled so max |coordinate| = 0.5) is photo3d's world
frame, so positions need no conversion.

photo3d's orbit convention is ``r * (sin yaw cos pitch, cos yaw cos pitch, sin pitch)``, hence
``yaw = 90 - a``: the six views sit at yaws ``[180, 90, 0, 270, 0, 0]``. The four horizontal
views therefore see exactly the Photo3D rig's yaws (grid order 0, 90, 180, 270) permuted:
model view ``MODEL_FROM_GRID[k]`` looks from grid view ``k``'s direction (only the projection
differs: orthographic here, FoV 39.6 at r 1.7 there). The top and bottom views have no grid
counterpart.
"""

from __future__ import annotations

import math

import numpy as np

from photo3d.cameras import Cameras, intrinsics, look_at, orbit_position

AZIMUTHS_DEG: tuple[float, ...] = tuple(x - 90.0 for x in (0.0, 90.0, 180.0, 270.0, 180.0, 180.0))
ELEVATIONS_DEG: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 89.99, -89.99)
YAWS_DEG: tuple[float, ...] = tuple((90.0 - a) % 360.0 for a in AZIMUTHS_DEG)  # (180, 90, 0, 270, 0, 0)
DISTANCE: float = 1.8
HALF_EXTENT: float = 0.55
RESOLUTION: int = 768
VIEW_NAMES: tuple[str, ...] = ("front", "right", "back", "left", "top", "bottom")
# Step1X-3D's baking weights per view (selected_view_weights).
VIEW_WEIGHTS: tuple[float, ...] = (1.0, 0.1, 0.5, 0.1, 0.05, 0.05)
# grid view k (yaw 0, 90, 180, 270) is seen from the same direction by model view MODEL_FROM_GRID[k]
MODEL_FROM_GRID: tuple[int, ...] = tuple(YAWS_DEG.index(y) for y in (0.0, 90.0, 180.0, 270.0))  # (2, 1, 0, 3)
# Until photo3d.cameras has an orthographic projection, the rig is approximated by a far
# perspective camera whose frustum has the same ±0.55 extent at the origin (0.5 % magnification
# spread across a unit object).
TELEPHOTO_DISTANCE: float = 100.0


def step1x_cameras(resolution: int = RESOLUTION, views: int = 6) -> Cameras:
    """The rig's first ``views`` cameras (all six by default) at ``resolution`` pixels.

    Args:
        resolution: view side in pixels (768 upstream).
        views: 4 for the horizontal views only, 6 for all.

    Returns:
        :class:`~photo3d.cameras.Cameras` in model view order (front, right, back, left, top,
        bottom), ``meta["projection"] = "telephoto-orthographic"``.
    """
    if views not in (4, 6):
        raise ValueError(f"the Step1X-3D rig has 4 horizontal or 6 views, not {views}")
    yaws, pitches = np.array(YAWS_DEG[:views]), np.array(ELEVATIONS_DEG[:views])
    c2w = np.stack([look_at(orbit_position(y, p, TELEPHOTO_DISTANCE)) for y, p in zip(yaws, pitches)])
    fov = 2.0 * math.degrees(math.atan(HALF_EXTENT / TELEPHOTO_DISTANCE))
    K = np.repeat(intrinsics(fov, resolution)[None], views, axis=0)
    cams = Cameras(c2w, K, resolution, resolution, yaws, pitches, np.full(views, TELEPHOTO_DISTANCE),
                   near=TELEPHOTO_DISTANCE - 2.0, far=TELEPHOTO_DISTANCE + 2.0)
    cams.meta.update(projection="telephoto-orthographic", half_extent=HALF_EXTENT, rig="step1x3d")
    return cams


def grid_order(views):
    """Model views 0-3 re-ordered like the Photo3D grid (yaw 0, 90, 180, 270)."""
    return views[list(MODEL_FROM_GRID)]
