"""Helpers shared by the builder tests (imported as a top-level module by pytest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

API_KEY = "sk-photo3d-test-SECRET-0123456789"


def make_tiny_assets(folder: Path, n: int = 4) -> Path:
    """``n`` small, asymmetric, face-coloured GLB meshes (boxes, cylinders, cones)."""
    import trimesh

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        kind = i % 3
        if kind == 0:
            m = trimesh.creation.box(extents=(1.0, 0.4 + 0.1 * i, 0.6))
        elif kind == 1:
            m = trimesh.creation.cylinder(radius=0.3, height=1.0, sections=12)
        else:
            m = trimesh.creation.cone(radius=0.4, height=1.0, sections=10)
        m.apply_translation((0.15 * (i % 2), 0.0, 0.0))  # off-centre parts make views asymmetric
        extra = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
        extra.apply_translation((0.45, 0.1, 0.3))
        m = trimesh.util.concatenate([m, extra])
        m.visual.face_colors = rng.integers(30, 220, (len(m.faces), 4)).astype(np.uint8) | np.uint8(0)
        m.visual.face_colors[:, 3] = 255
        m.export(folder / f"obj_{i:02d}.glb")
    return folder


def asset_config(out: Path, assets: Path, base_url: str, **over) -> dict:
    """A small assets-source build config (dict form, as in a JSON file)."""
    cfg = {"out": str(out), "source": {"kind": "assets", "path": str(assets)},
           "api": {"base_url": base_url, "backoff_base_s": 0.01, "backoff_cap_s": 0.05, "timeout_s": 1.0,
                   "max_retries": 4},
           "render": {"resolution": 32, "backend": "torch"},
           "executor": {"progress": False, "concurrency": {"edit": 4}}}
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    return cfg


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(json.dumps(cfg))
    return path
