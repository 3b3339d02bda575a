"""Reading edited reference views: a 2x2 rig grid, or a folder of views with their cameras.

Two forms of ``REF`` are accepted:

**A grid image** (PNG/JPEG/WebP) in the rig's layout: 2x2 row-major, top-left yaw 0, top-right
90, bottom-left 180, bottom-right 270 (see :mod:`photo3d.cameras`). It must be square with an
even side (any size: the 1024 px of Photo3D-MV, or an editor's 1536 px output); each cell is
resized to the render resolution. Alpha, if any, is composited on white.

**A folder of views** with a cameras file in :meth:`photo3d.cameras.Cameras.to_json` format,
found as ``cameras.json`` in the folder (or given explicitly). The views are listed in the
camera file's order either by a top-level ``"views": ["a.png", ...]`` list or a per-camera
``"file"`` key (paths relative to the cameras file); without either, the folder's ``*.png`` files
(other than masks named ``*_mask.png``) are taken in sorted filename order. The number of views
must equal the number of cameras, and every view must have the cameras' aspect ratio. Views are
resized to the render resolution (the longer side), and the intrinsics scaled with them. The
cameras are checked on load (:func:`photo3d.cameras.load_cameras`), and a view (or grid cell)
smaller than :data:`MIN_VIEW_PX` pixels a side is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from photo3d.cameras import RIG_GRID, Cameras, load_cameras, rig_cameras
from photo3d.errors import Photo3DError, ReferenceMismatchError
from photo3d.grid import split_grid
from photo3d.imaging.resample import resize
from photo3d.io import load_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MIN_VIEW_PX = 32  # smallest reference view side (the rig renders 512)


@dataclass
class References:
    """Reference views and the cameras that see them.

    Attributes:
        views: ``[N, 3, H, W]`` float in [0, 1] at the render resolution, on white.
        cameras: N cameras of size ``W x H``.
        kind: ``"grid"`` or ``"folder"``.
        files: the image file(s) read.
    """

    views: torch.Tensor
    cameras: Cameras
    kind: str
    files: list[str] = field(default_factory=list)


def load_references(reference: str | Path, resolution: int, cameras: str | Path | None = None) -> References:
    """Read ``reference`` (grid image or folder of views) at ``resolution`` pixels.

    Args:
        reference: grid image file, or folder of views.
        resolution: render resolution (the longer image side).
        cameras: cameras JSON for a folder (default ``reference/cameras.json``); must not be
            given for a grid.

    Returns:
        :class:`References`.

    Raises:
        ReferenceMismatchError: a grid that is not square with an even side, views that do
            not match the cameras (count, aspect ratio), a malformed cameras file.
        Photo3DError: missing or unreadable files.
    """
    ref = Path(reference)
    if ref.is_dir():
        return _load_folder(ref, resolution, Path(cameras) if cameras else ref / "cameras.json")
    if not ref.exists():
        raise Photo3DError(f"{ref}: reference not found; pass an edited 2x2 grid image or a folder of views "
                           "with cameras.json")
    if cameras is not None:
        raise ReferenceMismatchError(f"{ref}: a cameras file is only used with a folder of views; a grid "
                                     "image always uses the rig's cameras")
    return load_grid(ref, resolution)


def load_grid(path: str | Path, resolution: int) -> References:
    """Read a 2x2 rig grid and resize each cell to ``resolution`` (see module docs)."""
    path = Path(path)
    grid = load_image(path, "RGB", background=(1.0, 1.0, 1.0))
    _, h, w = grid.shape
    rows, cols = RIG_GRID
    if h != w or h % rows or w % cols:
        raise ReferenceMismatchError(
            f"{path}: a reference grid must be a square image whose side is divisible by 2 (the rig's 2x2 "
            f"layout), got {w}x{h}; re-export the edited grid at e.g. 1024x1024")
    _check_size(path, w // cols, h // rows, "grid cells")
    views = resize(split_grid(grid, rows, cols), resolution)
    return References(views, rig_cameras(resolution), "grid", [str(path)])


def _load_folder(folder: Path, resolution: int, cameras_path: Path) -> References:
    if not cameras_path.is_file():
        raise Photo3DError(f"{cameras_path}: cameras file not found; a folder of reference views needs a "
                           "cameras JSON (photo3d.cameras.Cameras.to_json format)")
    cams, doc = load_cameras(cameras_path)
    files = _view_files(folder, cameras_path, doc)
    if len(files) != len(cams):
        raise ReferenceMismatchError(
            f"{cameras_path}: {len(cams)} camera(s) but {len(files)} view image(s) in {folder}; list the "
            "views in the cameras file (\"views\": [...]) or keep exactly one image per camera")
    aspect = cams.width / cams.height
    views = []
    for f in files:
        img = load_image(f, "RGB", background=(1.0, 1.0, 1.0))
        _check_size(f, img.shape[2], img.shape[1])
        if abs(img.shape[2] / img.shape[1] - aspect) > 0.01 * aspect:
            raise ReferenceMismatchError(
                f"{f}: view is {img.shape[2]}x{img.shape[1]} but the cameras are {cams.width}x{cams.height}; "
                "views must have the cameras' aspect ratio")
        views.append(img)
    scale = resolution / max(cams.width, cams.height)
    w, h = max(1, round(cams.width * scale)), max(1, round(cams.height * scale))
    views_t = torch.cat([resize(v[None], (h, w)) for v in views])
    return References(views_t, cams.resized(w, h), "folder", [str(f) for f in files])


def _check_size(path, w: int, h: int, what: str = "view") -> None:
    """A reference view needs :data:`MIN_VIEW_PX` pixels a side: a thumbnail holds no detail to transfer."""
    if min(w, h) < MIN_VIEW_PX:
        raise ReferenceMismatchError(f"{path}: {what} of {w}x{h} px are too small to guide the texture (at least "
                                     f"{MIN_VIEW_PX} px a side); pass the edited views at full size")


def _view_files(folder: Path, cameras_path: Path, doc: dict) -> list[Path]:
    base = cameras_path.parent
    listed = doc.get("views")
    if listed is None and all(isinstance(c, dict) and "file" in c for c in doc["cameras"]):
        listed = [c["file"] for c in doc["cameras"]]
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
            raise ReferenceMismatchError(f"{cameras_path}: \"views\" must be a list of image file names")
        files = [base / x for x in listed]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise Photo3DError(f"{cameras_path}: view image(s) not found: {', '.join(missing[:3])}")
        return files
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() == ".png" and not p.stem.endswith("_mask") and not p.name.startswith("."))
