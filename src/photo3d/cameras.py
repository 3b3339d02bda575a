"""Cameras and the Photo3D rig. The project's camera conventions live here, once.

World frame (the TRELLIS frame)
    Z up. An asset is centred at the origin and scaled so that the longest side of its
    bounding box is 1, i.e. it fits in [-0.5, 0.5]^3. glTF assets (Y up, front facing +Z) map
    into it by (x, y, z) -> (x, -z, y), so a glTF front faces -Y.

Orbit cameras
    A camera at yaw ``a`` and pitch ``e`` (degrees) sits at
    ``r * (sin a * cos e, cos a * cos e, sin e)``, looks at the origin, with +Z as up.
    Yaw 0 looks along -Y and sees the *back* of a glTF asset; yaw 180 sees its front.

Camera matrices
    ``c2w`` is a 4x4 camera-to-world matrix in the OpenCV convention: camera x right, y down,
    z forward (into the scene). ``K`` is the 3x3 pinhole intrinsic matrix in pixels, with pixel
    (row i, col j) covering [j, j+1) x [i, i+1) so its centre is (j + 0.5, i + 0.5). Depth is the
    camera-space z (distance along the optical axis).

Projections
    ``perspective`` (the default): a camera-space point (X, Y, Z) lands at pixel
    ``(fx X / Z + cx, fy Y / Z + cy)``. ``orthographic``: at ``(fx X + cx, fy Y + cy)``, so ``K``
    holds pixels per world unit; a view spans ``±ortho_half_extent`` world units vertically
    (``0.5 H / fy``) around the optical axis. Depth is the camera z for both. One batch of
    cameras has one projection.

The Photo3D rig (from the released code)
    4 views at yaw 0, 90, 180, 270 degrees, pitch 0, r = 1.7, vertical FoV 39.6 degrees,
    512 x 512 pixels, white background. The 2x2 grid (1024 x 1024) is row-major:
    top-left yaw 0, top-right 90, bottom-left 180 (the front), bottom-right 270.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from photo3d.errors import CameraError

RIG_YAWS_DEG: tuple[float, ...] = (0.0, 90.0, 180.0, 270.0)
RIG_PITCH_DEG: float = 0.0
RIG_RADIUS: float = 1.7
RIG_FOV_DEG: float = 39.6
RIG_RESOLUTION: int = 512
RIG_BACKGROUND: tuple[float, float, float] = (1.0, 1.0, 1.0)
RIG_GRID: tuple[int, int] = (2, 2)  # rows, cols

PROJECTIONS: tuple[str, ...] = ("perspective", "orthographic")

# The Step1X-3D texture rig (stepfun-ai/Step1X-3D, step1x3d_texture/pipelines/
# step1x_3d_texture_synthesis_pipeline.py): orthographic +-0.55, distance 1.8, 768 px, six views
# listed upstream as elevations [0, 0, 0, 0, 89.99, -89.99] and azimuths [x - 90 for x in
# [0, 90, 180, 270, 180, 180]]. Upstream places a camera at d (cos e cos a, cos e sin a, sin e)
# in a Z-up frame that equals ours (its mesh loader maps glTF's Y-up to Z-up by (x, y, z) ->
# (x, -z, y), as we do), with +Z up, so azimuth a is measured from +X towards +Y while our yaw is
# measured from +Y towards +X: yaw = 90 - a = 180 - x. The views are therefore yaw 180 (the
# front), 90, 0 (the back), 270, then top and bottom seen from yaw 0 (the top view has the
# front at the top of the image); the pitch is the elevation.
# Baking upstream weights the views [1, 0.1, 0.5, 0.1, 0.05, 0.05] with cos^4 view-angle weights.
STEP1X3D_AZIMUTHS_DEG: tuple[float, ...] = (0.0, 90.0, 180.0, 270.0, 180.0, 180.0)  # "x" upstream
STEP1X3D_ELEVATIONS_DEG: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 89.99, -89.99)
STEP1X3D_RADIUS: float = 1.8
STEP1X3D_HALF_EXTENT: float = 0.55
STEP1X3D_RESOLUTION: int = 768
STEP1X3D_VIEW_WEIGHTS: tuple[float, ...] = (1.0, 0.1, 0.5, 0.1, 0.05, 0.05)
STEP1X3D_BAKE_EXPONENT: float = 4.0


@dataclass
class Cameras:
    """A batch of N cameras of one image size and one projection.

    Attributes:
        c2w: ``[N, 4, 4]`` float64 camera-to-world matrices (OpenCV axes).
        K: ``[N, 3, 3]`` float64 intrinsics in pixels (pixels per world unit when orthographic).
        width, height: image size in pixels.
        yaw_deg, pitch_deg, radius: orbit parameters when the cameras came from an orbit
            (``None`` otherwise); kept for filenames, grids and JSON.
        near, far: clipping distances along the camera z.
        meta: free-form notes carried along (not serialised).
        projection: ``"perspective"`` or ``"orthographic"`` (see the module docstring).
    """

    c2w: np.ndarray
    K: np.ndarray
    width: int
    height: int
    yaw_deg: np.ndarray | None = None
    pitch_deg: np.ndarray | None = None
    radius: np.ndarray | None = None
    near: float = 0.05
    far: float = 100.0
    meta: dict = field(default_factory=dict)
    projection: str = "perspective"

    def __post_init__(self) -> None:
        self.c2w = np.asarray(self.c2w, dtype=np.float64).reshape(-1, 4, 4)
        self.K = np.asarray(self.K, dtype=np.float64).reshape(-1, 3, 3)
        if len(self.c2w) != len(self.K):
            raise ValueError(f"c2w has {len(self.c2w)} cameras but K has {len(self.K)}")
        if self.projection not in PROJECTIONS:
            raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}, got {self.projection!r}")

    @property
    def is_orthographic(self) -> bool:
        return self.projection == "orthographic"

    @property
    def ortho_half_extent(self) -> np.ndarray:
        """``[N]`` half the vertical extent of each orthographic view in world units (``0.5 H / fy``)."""
        if not self.is_orthographic:
            raise ValueError("ortho_half_extent is defined for orthographic cameras only")
        return 0.5 * self.height / self.K[:, 1, 1]

    @property
    def forward(self) -> np.ndarray:
        """``[N, 3]`` unit viewing directions (camera +z) in world space."""
        return self.c2w[:, :3, 2].copy()

    def _like(self, c2w: np.ndarray, K: np.ndarray, width: int, height: int, idx=None) -> "Cameras":
        pick = (lambda a: a) if idx is None else (lambda a: None if a is None else np.asarray(a)[idx])
        return Cameras(c2w, K, width, height, pick(self.yaw_deg), pick(self.pitch_deg), pick(self.radius),
                       self.near, self.far, dict(self.meta), self.projection)

    def __len__(self) -> int:
        return len(self.c2w)

    def __getitem__(self, idx) -> "Cameras":
        idx = np.atleast_1d(np.arange(len(self))[idx])
        return self._like(self.c2w[idx], self.K[idx], self.width, self.height, idx)

    @property
    def w2c(self) -> np.ndarray:
        """``[N, 4, 4]`` world-to-camera matrices."""
        return np.linalg.inv(self.c2w)

    @property
    def centers(self) -> np.ndarray:
        """``[N, 3]`` camera positions in world space."""
        return self.c2w[:, :3, 3].copy()

    @staticmethod
    def cat(items: Sequence["Cameras"]) -> "Cameras":
        """One batch from several of the same image size and projection (orbit fields kept when
        every batch has them)."""
        first = items[0]
        for c in items[1:]:
            if (c.width, c.height, c.projection) != (first.width, first.height, first.projection):
                raise ValueError(f"cannot concatenate {c.width}x{c.height} {c.projection} cameras with "
                                 f"{first.width}x{first.height} {first.projection} ones")
        join = lambda name: (None if any(getattr(c, name) is None for c in items)  # noqa: E731
                             else np.concatenate([np.asarray(getattr(c, name)) for c in items]))
        return Cameras(np.concatenate([c.c2w for c in items]), np.concatenate([c.K for c in items]), first.width,
                       first.height, join("yaw_deg"), join("pitch_deg"), join("radius"), first.near, first.far,
                       dict(first.meta), first.projection)

    def resized(self, width: int, height: int | None = None) -> "Cameras":
        """The same cameras at another image size (intrinsics scaled, FoV / extent unchanged)."""
        height = width if height is None else height
        K = self.K.copy()
        K[:, 0] *= width / self.width
        K[:, 1] *= height / self.height
        return self._like(self.c2w.copy(), K, width, height)

    def to_json(self) -> dict:
        """A JSON-serialisable description; :meth:`from_json` reads it back."""
        out = {
            "convention": "opencv_c2w",
            "frame": "trellis_z_up",
            "width": self.width,
            "height": self.height,
            "near": self.near,
            "far": self.far,
            "projection": self.projection,
            "cameras": [],
        }
        for i in range(len(self)):
            cam = {"c2w": self.c2w[i].tolist(), "K": self.K[i].tolist()}
            for key in ("yaw_deg", "pitch_deg", "radius"):
                val = getattr(self, key)
                if val is not None:
                    cam[key] = float(val[i])
            out["cameras"].append(cam)
        return out

    @classmethod
    def from_json(cls, data: dict, source: str | os.PathLike | None = None) -> "Cameras":
        """Inverse of :meth:`to_json`; the cameras are checked with :meth:`validate`.

        Args:
            data: the document.
            source: where it came from (the file), named in error messages.

        Raises:
            CameraError: a malformed document or an unusable camera (a ``ValueError`` too).
        """
        where = f"{source}: " if source is not None else ""
        try:
            cams = data["cameras"]
            c2w = np.array([c["c2w"] for c in cams], dtype=np.float64)
            K = np.array([c["K"] for c in cams], dtype=np.float64)
            width, height = int(data["width"]), int(data["height"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CameraError(f"{where}not a photo3d cameras document ({exc!r}); write it with "
                              "photo3d.cameras.Cameras.to_json") from exc
        if c2w.ndim != 3 or K.ndim != 3 or c2w.shape[1:] != (4, 4) or K.shape[1:] != (3, 3):
            raise CameraError(f"{where}camera matrices have shapes {c2w.shape} and {K.shape}; want [N,4,4] and "
                              "[N,3,3]")
        projection = data.get("projection", "perspective")
        if projection not in PROJECTIONS:
            raise CameraError(f"{where}unknown projection {projection!r}; want one of {', '.join(PROJECTIONS)}")
        try:
            extra = {k: (np.array([c[k] for c in cams], dtype=np.float64) if all(k in c for c in cams) else None)
                     for k in ("yaw_deg", "pitch_deg", "radius")}
            near, far = float(data.get("near", 0.05)), float(data.get("far", 100.0))
        except (TypeError, ValueError) as exc:
            raise CameraError(f"{where}not a photo3d cameras document ({exc!r})") from exc
        out = cls(c2w, K, width, height, near=near, far=far, projection=projection, **extra)
        return out.validate(source)

    def validate(self, source: str | os.PathLike | None = None) -> "Cameras":
        """Check that every camera can be rendered; returns ``self``.

        Checked: a positive image size and ``0 < near < far``; per camera, finite matrices,
        ``c2w``'s rotation orthonormal with determinant +1 (tolerance 1e-3: JSON-rounded poses
        pass, a scaled, sheared or mirrored one does not) and bottom row ``0 0 0 1``, focal
        lengths ``fx, fy > 0``, no skew, ``K``'s last row ``0 0 1`` and the principal point inside
        the image.

        Raises:
            CameraError: ``FILE: camera I: what is wrong`` (one line).
        """
        where = f"{source}: " if source is not None else ""
        if self.width < 1 or self.height < 1:
            raise CameraError(f"{where}image size {self.width}x{self.height}: width and height must be positive")
        if not (math.isfinite(self.near) and math.isfinite(self.far) and 0 < self.near < self.far):
            raise CameraError(f"{where}near {self.near} / far {self.far}: want 0 < near < far")
        for i in range(len(self)):
            problem = _camera_problem(self.c2w[i], self.K[i], self.width, self.height)
            if problem:
                raise CameraError(f"{where}camera {i}: {problem}")
        return self


def _camera_problem(c2w: np.ndarray, K: np.ndarray, width: int, height: int) -> str | None:
    """What makes one camera unusable, or ``None`` (see :meth:`Cameras.validate`)."""
    if not np.isfinite(c2w).all():
        return "the pose (c2w) holds NaN or infinite values"
    if not np.isfinite(K).all():
        return "the intrinsics (K) hold NaN or infinite values"
    R = c2w[:3, :3]
    if np.abs(c2w[3] - (0.0, 0.0, 0.0, 1.0)).max() > 1e-6:
        return f"c2w's last row is {np.round(c2w[3], 4).tolist()}, want [0, 0, 0, 1]"
    err = float(np.abs(R.T @ R - np.eye(3)).max())
    if err > 1e-3:
        return f"c2w's rotation is not orthonormal (|R^T R - I| = {err:.3g}: scaled or sheared)"
    if np.linalg.det(R) < 0:
        return "c2w's rotation has determinant -1 (a mirror, not a rotation)"
    fx, fy = K[0, 0], K[1, 1]
    if fx <= 0 or fy <= 0:
        return f"focal lengths fx = {fx:g}, fy = {fy:g}: both must be positive"
    if abs(K[0, 1]) > 1e-6 * fx or abs(K[1, 0]) > 1e-9 or np.abs(K[2] - (0.0, 0.0, 1.0)).max() > 1e-9:
        return f"K = {np.round(K, 4).tolist()} is not a pinhole matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]"
    cx, cy = K[0, 2], K[1, 2]
    if not (0 <= cx <= width and 0 <= cy <= height):
        return f"principal point ({cx:g}, {cy:g}) outside the {width}x{height} image"
    return None


def load_cameras(path: str | os.PathLike) -> tuple["Cameras", dict]:
    """Read and check a cameras file (:meth:`Cameras.to_json` format): the one camera loader.

    Returns:
        ``(cameras, document)``: the document carries what else the file holds (``"views"``,
        ``"view_weights"``...).

    Raises:
        InputError: a missing or malformed file, or an unusable camera, named ``FILE: camera I: ...``.
    """
    from photo3d.io.text import expect_object, read_json

    doc = expect_object(read_json(path, "cameras file", "write it with photo3d.cameras.Cameras.to_json"), path)
    cams = Cameras.from_json(doc, path)
    if len(cams) == 0:
        raise CameraError(f"{path}: the cameras file lists no cameras")
    return cams, doc


def fov_to_focal(fov_deg: float, size: int) -> float:
    """Focal length in pixels for a field of view ``fov_deg`` spanning ``size`` pixels."""
    return 0.5 * size / math.tan(0.5 * math.radians(fov_deg))


def intrinsics(fov_deg: float, width: int, height: int | None = None) -> np.ndarray:
    """``[3, 3]`` intrinsics for a vertical FoV; square pixels, principal point at the centre."""
    height = width if height is None else height
    f = fov_to_focal(fov_deg, height)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def orthographic_intrinsics(half_extent: float, width: int, height: int | None = None) -> np.ndarray:
    """``[3, 3]`` orthographic "intrinsics": ``half_extent`` world units from the centre to the top
    edge, square pixels, principal point at the centre (``fx = fy = 0.5 H / half_extent``)."""
    height = width if height is None else height
    if half_extent <= 0:
        raise ValueError(f"half_extent must be positive, got {half_extent}")
    f = 0.5 * height / half_extent
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def look_at(eye: np.ndarray, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """``[4, 4]`` OpenCV camera-to-world matrix for a camera at ``eye`` looking at ``target``."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:  # looking straight up/down: any perpendicular will do
        right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, forward, eye
    return c2w


def orbit_position(yaw_deg: float, pitch_deg: float, radius: float) -> np.ndarray:
    """Camera centre ``r * (sin yaw cos pitch, cos yaw cos pitch, sin pitch)``."""
    a, e = math.radians(yaw_deg), math.radians(pitch_deg)
    return radius * np.array([math.sin(a) * math.cos(e), math.cos(a) * math.cos(e), math.sin(e)])


def orbit_cameras(
    yaws_deg: Sequence[float],
    pitches_deg: Sequence[float] | float = 0.0,
    radius: float | Sequence[float] = RIG_RADIUS,
    fov_deg: float = RIG_FOV_DEG,
    resolution: int = RIG_RESOLUTION,
    ortho_half_extent: float | None = None,
) -> Cameras:
    """Cameras on an orbit around the origin, one per (yaw, pitch) pair.

    ``pitches_deg`` and ``radius`` broadcast against ``yaws_deg``. With ``ortho_half_extent``
    the cameras are orthographic, spanning ``±ortho_half_extent`` world units (``fov_deg`` is
    then unused).
    """
    yaws = np.asarray(yaws_deg, dtype=np.float64).reshape(-1)
    pitches = np.broadcast_to(np.asarray(pitches_deg, dtype=np.float64), yaws.shape).copy()
    radii = np.broadcast_to(np.asarray(radius, dtype=np.float64), yaws.shape).copy()
    c2w = np.stack([look_at(orbit_position(a, e, r)) for a, e, r in zip(yaws, pitches, radii)])
    if ortho_half_extent is None:
        K1, projection = intrinsics(fov_deg, resolution), "perspective"
    else:
        K1, projection = orthographic_intrinsics(ortho_half_extent, resolution), "orthographic"
    K = np.repeat(K1[None], len(yaws), axis=0)
    return Cameras(c2w, K, resolution, resolution, yaws, pitches, radii, projection=projection)


def rig_cameras(resolution: int = RIG_RESOLUTION) -> Cameras:
    """The Photo3D rig: yaw 0/90/180/270, pitch 0, r 1.7, FoV 39.6 degrees (grid order)."""
    return orbit_cameras(RIG_YAWS_DEG, RIG_PITCH_DEG, RIG_RADIUS, RIG_FOV_DEG, resolution)


def step1x3d_yaw(azimuth_deg: float) -> float:
    """Our yaw for an entry ``x`` of Step1X-3D's azimuth list (its camera azimuth is ``x - 90``).

    See :data:`STEP1X3D_AZIMUTHS_DEG`: ``yaw = 180 - x`` (mod 360), so entry 0 is yaw 180, the front.
    """
    return float((180.0 - azimuth_deg) % 360.0)


def step1x3d_rig_cameras(resolution: int = STEP1X3D_RESOLUTION) -> Cameras:
    """The Step1X-3D texture rig in our conventions: 6 orthographic views (±0.55, r 1.8).

    Order as upstream: yaw 180 (front), 90, 0 (back), 270 at pitch 0, then top (pitch 89.99) and
    bottom (pitch -89.99), both from yaw 0. Bake weights: :data:`STEP1X3D_VIEW_WEIGHTS`.
    """
    yaws = [step1x3d_yaw(x) for x in STEP1X3D_AZIMUTHS_DEG]
    return orbit_cameras(yaws, STEP1X3D_ELEVATIONS_DEG, STEP1X3D_RADIUS, resolution=resolution,
                         ortho_half_extent=STEP1X3D_HALF_EXTENT)


def ring_cameras(
    n_views: int,
    pitches_deg: Sequence[float] = (0.0,),
    radius: float = RIG_RADIUS,
    fov_deg: float = RIG_FOV_DEG,
    resolution: int = RIG_RESOLUTION,
    yaw_offset_deg: float = 0.0,
) -> Cameras:
    """``n_views`` evenly spaced yaws at each pitch (pitch-major order)."""
    yaws = yaw_offset_deg + np.arange(n_views) * 360.0 / n_views
    grid_yaw, grid_pitch = np.meshgrid(yaws, np.asarray(pitches_deg, dtype=np.float64))
    return orbit_cameras(grid_yaw.ravel(), grid_pitch.ravel(), radius, fov_deg, resolution)


def random_cameras(
    n_views: int,
    seed: int = 0,
    pitch_range_deg: tuple[float, float] = (-20.0, 30.0),
    radius: float = RIG_RADIUS,
    fov_deg: float = RIG_FOV_DEG,
    resolution: int = RIG_RESOLUTION,
) -> Cameras:
    """Held-out views: yaw uniform in [0, 360), pitch uniform in ``pitch_range_deg``. Seeded."""
    rng = np.random.default_rng(seed)
    yaws = rng.uniform(0.0, 360.0, n_views)
    pitches = rng.uniform(*pitch_range_deg, n_views)
    return orbit_cameras(yaws, pitches, radius, fov_deg, resolution)


def random_cameras_like(
    cameras: Cameras,
    n_views: int,
    seed: int = 0,
    pitch_range_deg: tuple[float, float] = (-30.0, 60.0),
) -> Cameras:
    """``n_views`` random orbit views with the intrinsics, size and projection of ``cameras[0]``,
    at the mean distance of ``cameras`` from the origin (yaw uniform, pitch uniform in range). Seeded."""
    rng = np.random.default_rng(seed)
    yaws = rng.uniform(0.0, 360.0, n_views)
    pitches = rng.uniform(*pitch_range_deg, n_views)
    radius = float(np.linalg.norm(cameras.centers, axis=1).mean())
    c2w = np.stack([look_at(orbit_position(a, e, radius)) for a, e in zip(yaws, pitches)]).reshape(-1, 4, 4)
    K = np.repeat(cameras.K[:1], n_views, axis=0)
    return Cameras(c2w, K, cameras.width, cameras.height, yaws, pitches, np.full(n_views, radius), cameras.near,
                   cameras.far, projection=cameras.projection)


def heldout_cameras(resolution: int = RIG_RESOLUTION, pitches_deg=(-20.0, 20.0)) -> Cameras:
    """Evaluation views the rig never sees: yaws 45/135/225/315 at each of ``pitches_deg``."""
    return ring_cameras(4, pitches_deg, resolution=resolution, yaw_offset_deg=45.0)
