"""How the Step1X-3D rig's views relate to the Photo3D rig's (the cameras live in photo3d.cameras).

:func:`photo3d.cameras.step1x3d_rig_cameras` builds the six orthographic views of Step1X-3D's
texture model in our conventions: yaws 180 (front), 90, 0 (back), 270 at pitch 0, then top and
bottom. The four horizontal views therefore look from exactly the Photo3D rig's yaws (grid order
0, 90, 180, 270), permuted: model view ``MODEL_FROM_GRID[k]`` looks from grid view ``k``'s
direction; only the projection differs (orthographic ±0.55 here, FoV 39.6° at r 1.7 there). The
top and bottom views have no grid counterpart. Upstream's mesh frame (glTF Y-up mapped "up +y,
front +x", rescaled to max |coordinate| 0.5) is our world frame, so positions need no conversion.
"""

from __future__ import annotations

from photo3d.cameras import RIG_YAWS_DEG, STEP1X3D_AZIMUTHS_DEG, step1x3d_yaw

VIEW_NAMES: tuple[str, ...] = ("front", "right", "back", "left", "top", "bottom")
MODEL_YAWS_DEG: tuple[float, ...] = tuple(step1x3d_yaw(x) % 360.0 for x in STEP1X3D_AZIMUTHS_DEG[:4])
# grid view k (yaw 0, 90, 180, 270) is seen from the same direction by model view MODEL_FROM_GRID[k]
MODEL_FROM_GRID: tuple[int, ...] = tuple(MODEL_YAWS_DEG.index(y) for y in RIG_YAWS_DEG)  # (2, 1, 0, 3)
