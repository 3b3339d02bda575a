"""The Photo3D-MV reader: layout, prompts, and bad samples reported and skipped."""

from __future__ import annotations

import shutil

import pytest
import torch
from PIL import Image

from photo3d.errors import InputError
from photo3d.train.dataset import Photo3DMVDataset


def test_reads_bundled_layout(mv_tiny):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    assert len(ds) == 2 and not ds.skipped
    s = ds[1]
    assert s["id"] == "1" and s["target"].shape == (4, 3, 32, 32)
    assert 0.0 <= float(s["target"].min()) and float(s["target"].max()) <= 1.0
    assert "bunny" in s["prompt"] and s["mesh_path"].name == "mesh.obj"
    assert s["cameras"].width == 32 and len(s["cameras"]) == 4


def test_bad_samples_are_reported_and_skipped(mv_tiny, tmp_path):
    root = tmp_path / "mv"
    shutil.copytree(mv_tiny, root)
    (root / "manifest.jsonl").unlink()  # list samples from the grid files instead
    (root / "grids").mkdir()
    Image.new("RGB", (100, 60), "white").save(root / "grids" / "grid_2.png")  # not 2x2 of squares
    (root / "2").mkdir()
    shutil.copy(root / "0" / "mesh.obj", root / "2" / "mesh.obj")
    (root / "grid_3.png").write_bytes(b"not a png at all")  # unreadable
    (root / "3").mkdir()
    shutil.copy(root / "0" / "mesh.obj", root / "3" / "mesh.obj")
    Image.new("RGB", (64, 64), "white").save(root / "grid_4.png")  # fine grid, no mesh / latents
    with pytest.warns(UserWarning) as rec:
        ds = Photo3DMVDataset(root, resolution=32)
    reasons = dict(ds.skipped)
    assert sorted(reasons) == ["2", "3", "4"] and len(ds) == 2
    assert "100x60" in reasons["2"] and "readable" in reasons["3"] and "mesh.obj" in reasons["4"]
    messages = " ".join(str(w.message) for w in rec)
    assert "'3'" in messages and "skipped 3 of 5" in messages
    assert [ds[i]["id"] for i in range(len(ds))] == ["0", "1"]


def test_slat_latents_and_empty_folder(tmp_path):
    import numpy as np

    Image.new("RGB", (64, 64), "white").save(tmp_path / "grid_7.png")
    (tmp_path / "7").mkdir()
    np.savez(tmp_path / "7" / "slat.npz", feats=np.ones((5, 8), np.float32),
             coords=np.array([[0, 1, 2, 70]] * 5, np.int32))
    ds = Photo3DMVDataset(tmp_path, resolution=16)
    slat = ds[0]["slat"]
    assert slat["feats"].shape == (5, 8) and slat["coords"].shape == (5, 3)
    assert int(slat["coords"].max()) == 63  # batch column dropped, clamped to the 64^3 grid
    assert ds[0]["mesh_path"] is None and torch.all(ds[0]["target"] == 1)
    with pytest.raises(InputError):
        Photo3DMVDataset(tmp_path / "7")
