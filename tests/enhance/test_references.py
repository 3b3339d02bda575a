"""Reading reference grids and folders of views, and their one-line errors."""

from __future__ import annotations

import json

import pytest
import torch

from photo3d.cameras import orbit_cameras, rig_cameras
from photo3d.enhance.references import load_references
from photo3d.errors import InputError, Photo3DError, ReferenceMismatchError
from photo3d.io import save_image


def test_grid_is_split_in_rig_order_and_resized(tmp_path):
    grid = torch.ones(3, 96, 96)
    grid[0, :48, 48:] = 0.0  # top-right cell = yaw 90 has no red
    path = save_image(tmp_path / "g.png", grid)
    refs = load_references(path, 32)
    assert refs.views.shape == (4, 3, 32, 32) and refs.kind == "grid"
    assert refs.views[1, 0].max() < 0.01 and refs.views[0, 0].min() > 0.99
    assert refs.cameras.width == 32
    assert list(refs.cameras.yaw_deg) == list(rig_cameras(32).yaw_deg)


@pytest.mark.parametrize("size", [(64, 96), (63, 63)])
def test_grid_of_wrong_shape_is_one_line_error(tmp_path, size):
    path = save_image(tmp_path / "g.png", torch.ones(3, *size))
    with pytest.raises(ReferenceMismatchError, match="square image whose side is divisible by 2") as exc:
        load_references(path, 32)
    assert "\n" not in str(exc.value)


def test_missing_reference(tmp_path):
    with pytest.raises(Photo3DError, match="reference not found"):
        load_references(tmp_path / "nope.png", 32)


def _folder(tmp_path, n_cams=3, n_views=3, listed=False, size=(40, 40)):
    cams = orbit_cameras([10.0 * i for i in range(n_cams)], 5.0, resolution=40)
    doc = cams.to_json()
    names = [f"v{i}.png" for i in range(n_views)]
    for i, name in enumerate(names):
        save_image(tmp_path / name, torch.full((3, *size), 0.1 * (i + 1)))
    if listed:
        doc["views"] = list(reversed(names))
    (tmp_path / "cameras.json").write_text(json.dumps(doc))
    return tmp_path


def test_folder_sorted_order(tmp_path):
    refs = load_references(_folder(tmp_path), 20)
    assert refs.views.shape == (3, 3, 20, 20) and refs.kind == "folder"
    assert refs.views[0, 0, 0, 0] < refs.views[2, 0, 0, 0]
    assert refs.cameras.width == 20 and abs(refs.cameras.K[0, 0, 0] * 2 - orbit_cameras([0], 5.0, resolution=40).K[0, 0, 0]) < 1e-6


def test_folder_listed_order(tmp_path):
    refs = load_references(_folder(tmp_path, listed=True), 20)
    assert refs.views[0, 0, 0, 0] > refs.views[2, 0, 0, 0]  # reversed by the "views" list


def test_folder_count_mismatch(tmp_path):
    with pytest.raises(ReferenceMismatchError, match="3 camera"):
        load_references(_folder(tmp_path, n_cams=3, n_views=2), 20)


def test_folder_aspect_mismatch(tmp_path):
    with pytest.raises(ReferenceMismatchError, match="aspect ratio"):
        load_references(_folder(tmp_path, size=(40, 60)), 20)


def test_folder_malformed_or_missing_cameras(tmp_path):
    _folder(tmp_path)
    (tmp_path / "cameras.json").write_text("{not json")
    with pytest.raises(InputError, match=r"cameras.json:1:2: not valid JSON"):
        load_references(tmp_path, 20)
    (tmp_path / "cameras.json").write_text(json.dumps({"cameras": [{"c2w": [1, 2]}], "width": 4, "height": 4}))
    with pytest.raises(InputError, match="cameras.json: not a photo3d cameras document"):
        load_references(tmp_path, 20)
    (tmp_path / "cameras.json").unlink()
    with pytest.raises(Photo3DError, match="cameras file not found"):
        load_references(tmp_path, 20)


def test_cameras_with_a_grid_is_an_error(tmp_path):
    path = save_image(tmp_path / "g.png", torch.ones(3, 64, 64))
    with pytest.raises(ReferenceMismatchError, match="only used with a folder"):
        load_references(path, 32, cameras=tmp_path / "c.json")
