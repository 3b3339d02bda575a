"""Failure class: cameras are not validated.

NaN in a pose or in K, a zero focal length, a sheared or mirrored rotation were accepted by every
command that reads a cameras file, ending in a stray warning and a wrong result. Now
:func:`photo3d.cameras.load_cameras` (the one loader, used by ``enhance`` and ``bake``) stops with
one line naming the file and the camera.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from reliability_helpers import ENHANCE_FAST, error_lines, run


def _break(doc: dict, defect: str) -> dict:
    cam = doc["cameras"][1]
    c2w, K = np.array(cam["c2w"]), np.array(cam["K"])
    if defect == "nan pose":
        c2w[0, 3] = np.nan
    elif defect == "nan K":
        K[0, 2] = np.nan
    elif defect == "fx = 0":
        K[0, 0] = 0.0
    elif defect == "negative fy":
        K[1, 1] *= -1
    elif defect == "sheared rotation":
        c2w[:3, 0] += 0.3 * c2w[:3, 1]
    elif defect == "mirrored rotation":
        c2w[:3, 0] *= -1
    elif defect == "principal point off the image":
        K[0, 2] = 10 * doc["width"]
    cam["c2w"], cam["K"] = c2w.tolist(), K.tolist()
    return doc


DEFECTS = {
    "nan pose": "camera 1: the pose (c2w) holds NaN",
    "nan K": "camera 1: the intrinsics (K) hold NaN",
    "fx = 0": "camera 1: focal lengths fx = 0",
    "negative fy": "camera 1: focal lengths",
    "sheared rotation": "camera 1: c2w's rotation is not orthonormal",
    "mirrored rotation": "camera 1: c2w's rotation has determinant -1",
    "principal point off the image": "camera 1: principal point",
}


def _views_folder(cube_case, tmp_path, defect: str):
    """A folder of the cube's four rig views at 48 px with a cameras.json, one camera broken."""
    from photo3d.cameras import rig_cameras
    from photo3d.grid import split_grid
    from photo3d.io import load_image, save_image

    _, grid = cube_case
    folder = tmp_path / "views"
    for i, view in enumerate(split_grid(load_image(grid, "RGB"))):
        save_image(folder / f"view_{i}.png", view)
    doc = _break(json.loads(json.dumps(rig_cameras(48).to_json())), defect)
    (folder / "cameras.json").write_text(json.dumps(doc))  # json writes NaN as NaN, as numpy users do
    return folder


@pytest.mark.parametrize("command", ["enhance", "bake"])
@pytest.mark.parametrize("defect", list(DEFECTS))
def test_an_unusable_camera_is_one_line_naming_file_and_camera(command, defect, cube_case, tmp_path, capsys):
    """Guards: a broken camera in a cameras file was accepted (wrong result, stray warnings or a
    traceback). Now: exit 2, one line ``.../cameras.json: camera 1: <what is wrong>``, no output."""
    asset, _ = cube_case
    views = _views_folder(cube_case, tmp_path, defect)
    if command == "enhance":
        argv = ["enhance", asset, "-r", views, "-o", tmp_path / "out", *ENHANCE_FAST]
    else:
        argv = ["bake", asset, "--views", views, "-o", tmp_path / "out" / "baked.glb", "--texture-size", "32",
                "--backend", "torch"]
    code, _, err = run(argv, capsys)
    lines = error_lines(err, command)
    assert code == 2 and len(lines) == 1 and len(err) == 1, err
    assert "cameras.json: " + DEFECTS[defect] in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


def test_valid_cameras_load_unchanged(tmp_path):
    """Guards the other side: every camera rig photo3d writes passes the validation."""
    from photo3d.cameras import Cameras, heldout_cameras, load_cameras, rig_cameras, step1x3d_rig_cameras

    for cams in (rig_cameras(512), heldout_cameras(64), step1x3d_rig_cameras(96), rig_cameras(33).resized(40, 20)):
        path = tmp_path / "c.json"
        path.write_text(json.dumps(cams.to_json()))
        back, _ = load_cameras(path)
        assert isinstance(back, Cameras) and np.allclose(back.c2w, cams.c2w) and np.allclose(back.K, cams.K)
