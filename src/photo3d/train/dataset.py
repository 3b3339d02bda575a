"""Reading Photo3D-MV for training (the layout of ``design.md``, plus the TRELLIS per-id latents).

Accepted layout (every part but the grids is optional)::

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

import json
import re
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from photo3d.cameras import rig_cameras
from photo3d.errors import InputError, UnreadableImageError
from photo3d.grid import split_grid
from photo3d.io import image_size, load_image

MESH_NAMES = ("mesh.obj", "mesh.glb", "mesh.ply")
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
        self.prompts = _read_prompts(self.root, prompts_file)
        self.manifest = _read_manifest(self.root / "manifest.jsonl")
        self.samples: list[dict] = []
        self.skipped: list[tuple[str, str]] = []
        for sid in self._list_ids():
            reason = self._check(sid)
            if reason:
                self.skipped.append((sid, reason))
                warnings.warn(f"Photo3D-MV sample {sid!r} skipped: {reason}", stacklevel=2)
        if self.skipped:
            warnings.warn(f"Photo3D-MV {self.root}: skipped {len(self.skipped)} of "
                          f"{len(self.skipped) + len(self.samples)} samples", stacklevel=2)
        if not self.samples:
            raise InputError(f"{self.root}: no usable Photo3D-MV samples (grid_{{id}}.png + {{id}}/mesh.obj); "
                             f"{len(self.skipped)} skipped")

    def _list_ids(self) -> list[str]:
        if self.manifest:
            return [str(rec["id"]) for rec in self.manifest if "id" in rec]
        ids = set()
        for folder in (self.root, self.root / "grids"):
            for p in folder.glob("grid_*.png"):
                ids.add(p.stem[len("grid_"):])
        return sorted(ids, key=sample_id_key)

    def _grid_path(self, sid: str) -> Path | None:
        rec = next((r for r in self.manifest if str(r.get("id")) == sid), {})
        for cand in (rec.get("grid"), f"grid_{sid}.png", f"grids/grid_{sid}.png"):
            if cand and (self.root / cand).is_file():
                return self.root / cand
        return None

    def _check(self, sid: str) -> str | None:
        """None if the sample is usable (and registers it), else the reason."""
        grid = self._grid_path(sid)
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
        mesh = next((self.root / sid / n for n in MESH_NAMES if (self.root / sid / n).is_file()), None)
        slat = self.root / sid / "slat.npz"
        if mesh is None and not slat.is_file():
            return f"no {sid}/mesh.obj (or mesh.glb/.ply) and no {sid}/slat.npz"
        self.samples.append({"id": sid, "grid": grid, "mesh_path": mesh, "slat_path": slat if slat.is_file() else None})
        return None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict:
        rec = self.samples[index]
        grid = load_image(rec["grid"], background=(1.0, 1.0, 1.0))[:3]
        views = split_grid(grid)
        if views.shape[-1] != self.resolution:
            views = F.interpolate(views, size=(self.resolution, self.resolution), mode="area"
                                  if views.shape[-1] > self.resolution else "bilinear", align_corners=None)
        sid = rec["id"]
        prompt = self.prompts.get(sid)
        for m in self.manifest:
            if str(m.get("id")) == sid and m.get("prompt"):
                prompt = m["prompt"]
        return {
            "id": sid,
            "target": views.clamp(0.0, 1.0),
            "cameras": rig_cameras(self.resolution),
            "prompt": prompt,
            "mesh_path": rec["mesh_path"],
            "slat": _read_slat(rec["slat_path"]) if rec["slat_path"] else None,
        }


def _read_prompts(root: Path, prompts_file) -> dict[str, str]:
    if prompts_file is None:
        cands = [root / "prompts.txt"] if (root / "prompts.txt").is_file() else sorted(root.glob("*prompts*.txt"))
        prompts_file = cands[0] if len(cands) == 1 else None
    if prompts_file is None:
        return {}
    lines = Path(prompts_file).read_text(encoding="utf-8").splitlines()
    return {str(i): line.strip() for i, line in enumerate(lines)}


def _read_manifest(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not JSON ({exc.msg}); fix or delete the line") from exc
    return out


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


def sample_id_key(sid: str):
    """Sort key: integer ids numerically, others by name."""
    return (0, int(sid), "") if re.fullmatch(r"\d+", sid) else (1, 0, sid)
