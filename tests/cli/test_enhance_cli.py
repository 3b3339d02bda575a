"""``photo3d enhance`` / ``photo3d demo`` through the console entry point."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from photo3d.cli import main

_spec = importlib.util.spec_from_file_location(
    "enhance_cube_asset", Path(__file__).resolve().parents[1] / "enhance" / "cube_asset.py")
_cube = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cube)
cube_texture, write_cube, edited_texture = _cube.cube_texture, _cube.write_cube, _cube.edited_texture


@pytest.fixture
def cube(tmp_path) -> tuple[Path, Path]:
    from photo3d.assets import load_asset
    from photo3d.io import save_image
    from photo3d.render import render_grid

    asset = write_cube(tmp_path / "cube.glb", cube_texture(0))
    edited = write_cube(tmp_path / "edited.glb", edited_texture(cube_texture(0)))
    grid = save_image(tmp_path / "ref.png", render_grid(load_asset(edited), 48))
    return asset, grid


FAST = ["--resolution", "48", "--steps", "2", "--encoders", "tiny", "--n-crops", "2", "--match-size", "48",
        "--no-progress", "--no-turntable"]


def test_enhance_command_end_to_end(tmp_path, cube, capsys):
    asset, grid = cube
    out = tmp_path / "out"
    assert main(["enhance", str(asset), "--reference", str(grid), "-o", str(out), *FAST]) == 0
    rec = json.loads((out / "record.json").read_text())
    assert rec["config"]["steps"] == 2 and rec["config"]["resolution"] == 48
    assert (out / "enhanced.glb").is_file() and (out / "grid_after.png").is_file()
    assert "encoders: tiny-clip" in capsys.readouterr().out


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_wrong_grid_shape_is_one_line_exit_2(tmp_path, cube, capsys):
    import torch

    from photo3d.io import save_image

    asset, _ = cube
    bad = save_image(tmp_path / "bad.png", torch.ones(3, 40, 60))
    assert main(["enhance", str(asset), "--reference", str(bad), "-o", str(tmp_path / "o"), *FAST]) == 2
    assert "divisible by 2" in _error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_camera_count_mismatch_is_one_line_exit_2(tmp_path, cube, capsys):
    from photo3d.cameras import rig_cameras
    from photo3d.io import save_image
    import torch

    asset, _ = cube
    views = tmp_path / "views"
    views.mkdir()
    for i in range(3):
        save_image(views / f"{i}.png", torch.ones(3, 48, 48))
    (views / "cameras.json").write_text(json.dumps(rig_cameras(48).to_json()))
    assert main(["enhance", str(asset), "--reference", str(views), "-o", str(tmp_path / "o"), *FAST]) == 2
    assert "4 camera(s) but 3 view image(s)" in _error_line(capsys)


def test_missing_asset_is_one_line_exit_2(tmp_path, cube, capsys):
    _, grid = cube
    assert main(["enhance", str(tmp_path / "nope.glb"), "--reference", str(grid), "-o", str(tmp_path / "o"), *FAST]) == 2
    assert "nope.glb" in _error_line(capsys)


def test_bad_option_value_is_one_line_exit_2(tmp_path, cube, capsys):
    asset, grid = cube
    assert main(["enhance", str(asset), "--reference", str(grid), "-o", str(tmp_path / "o"), "--steps", "-1"]) == 2
    assert "steps" in _error_line(capsys)


def test_demo_help_lists_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--steps" in out and "sugar box" in out


def test_missing_torchmetrics_fails_before_any_work(tmp_path, cube, capsys, monkeypatch):
    import sys

    asset, grid = cube
    monkeypatch.setitem(sys.modules, "torchmetrics", None)  # as if it were not installed
    out = tmp_path / "out"
    rc = main(["enhance", str(asset), "--reference", str(grid), "-o", str(out), "--ground-truth", str(asset), *FAST])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install 'photo3d[eval]'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing was optimised or written
    rc = main(["demo", "-o", str(tmp_path / "demo"), "--steps", "1"])
    assert rc == 2 and "photo3d[eval]" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()
