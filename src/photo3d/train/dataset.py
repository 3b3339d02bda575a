"""Reading Photo3D-MV for training (the layout of :mod:`photo3d.data.layout`, plus the TRELLIS latents).

Accepted layout (every part but the grids is optional; located by :func:`photo3d.data.layout.read_layout`)::

    DIR/grid_{id}.png  or  DIR/grids/grid_{id}.png   edited 2x2 grid (RGB, or RGBA over white)
    DIR/{id}/mesh.obj  (or mesh.glb / mesh.ply)      the asset, already in the TRELLIS world frame
    DIR/{id}/slat.npz                                 TRELLIS SLAT: 'feats' [N, 8], 'coords' [N, 3|4]
    DIR/prompts.txt (or *prompts*.txt)                line ``id`` = prompt of integer id ``id``
    DIR/manifest.jsonl                                one JSON object per sample with an "id"

Samples are listed from ``manifest.jsonl`` when present, else from the grid files. A sample whose
grid is missing, unreadable or not a 2x2 grid of square views, or that has neither a mesh nor
latents, is **reported** (a warning naming the id and the reason) and **skipped**; the list is in
:attr:`Photo3DMVDataset.skipped`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from photo3d.cameras import rig_cameras
from photo3d.data.layout import MVSample, read_layout
from photo3d.errors import InputError, UnreadableImageError
from photo3d.grid import split_grid
from photo3d.io import image_size, load_image

MIN_VIEW = 16


class Photo3DMVDataset(torch.utils.data.Dataset):
    """Photo3D-MV samples as dicts.

    Each item: ``{"id": str, "target": [4, 3, R, R] float in [0, 1] (grid order), "cameras":
    rig Cameras at R, "prompt": str | None, "mesh_path": Path | None, "slat": dict | None}``.

    Args:
        root: the dataset folder.
        resolution: per-view size R the grid cells are resized to (area filter).
        prompts_file: prompts file; default: ``prompts.txt`` or the only ``*prompts*.txt``.
    """

    def __init__(self, root: str | Path, resolution: int = 512, prompts_file: str | Path | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"{self.root}: no such dataset folder")
        self.resolution = int(resolution)
        self.samples: list[MVSample] = []
        self.skipped: list[tuple[str, str]] = []
        for sample in read_layout(self.root, prompts_file):
            reason = self._problem(sample)
            if reason:
                self.skipped.append((sample.id, reason))
                warnings.warn(f"Photo3D-MV sample {sample.id!r} skipped: {reason}", stacklevel=2)
            else:
                self.samples.append(sample)
        if self.skipped:
            warnings.warn(f"Photo3D-MV {self.root}: skipped {len(self.skipped)} of "
                          f"{len(self.skipped) + len(self.samples)} samples", stacklevel=2)
        if not self.samples:
            raise InputError(f"{self.root}: no usable Photo3D-MV samples (grid_{{id}}.png + {{id}}/mesh.obj); "
                             f"{len(self.skipped)} skipped")

    def _problem(self, sample: MVSample) -> str | None:
        """Why ``sample`` cannot be used, or ``None``."""
        sid, grid = sample.id, sample.grid
        if grid is None:
            return f"no grid_{sid}.png in {self.root} or {self.root / 'grids'}"
        try:
            w, h = image_size(grid)
        except UnreadableImageError as exc:
            return f"{grid.name} is not a readable image ({exc.reason})"
        if w % 2 or h % 2 or w != h:
            return f"{grid.name} is {w}x{h}; want a square 2x2 grid of square views (e.g. 1024x1024)"
        if w // 2 < MIN_VIEW:
            return f"{grid.name} is {w}x{h}; views smaller than {MIN_VIEW}px"
        if sample.mesh is None and sample.slat is None:
            return f"no {sid}/mesh.obj (or mesh.glb/.ply) and no {sid}/slat.npz"
        return None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict:
        sample = self.samples[index]
        views = split_grid(load_image(sample.grid, background=(1.0, 1.0, 1.0))[:3])
        if views.shape[-1] != self.resolution:
            views = F.interpolate(views, size=(self.resolution, self.resolution), mode="area"
                                  if views.shape[-1] > self.resolution else "bilinear", align_corners=None)
        return {
            "id": sample.id,
            "target": views.clamp(0.0, 1.0),
            "cameras": rig_cameras(self.resolution),
            "prompt": sample.prompt,
            "mesh_path": sample.mesh,
            "slat": _read_slat(sample.slat) if sample.slat else None,
        }


def _read_slat(path: Path) -> dict:
    """TRELLIS SLAT: un-normalised ``feats [N, C]`` and ``coords [N, 3]`` (batch column dropped)."""
    with np.load(path) as z:
        feats = torch.from_numpy(np.asarray(z["feats"], dtype=np.float32))
        coords = torch.from_numpy(np.asarray(z["coords"], dtype=np.int64)) if "coords" in z else None
    if coords is not None and coords.shape[1] == 4:
        coords = coords[:, 1:]
    if coords is not None:
        coords = coords.clamp(0, 63)
    return {"feats": feats, "coords": coords}
