"""``photo3d render``: single and batch output, options, errors, and a fast ``--help``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from photo3d.cameras import Cameras
from photo3d.cli import main


def test_single_asset_grid(sugar_box_path, tmp_path):
    out = tmp_path / "grid.png"
    assert main(["render", str(sugar_box_path), "-o", str(out), "--resolution", "24", "--ssaa", "1",
                 "--backend", "torch"]) == 0
    with Image.open(out) as im:
        assert im.size == (48, 48) and im.mode == "RGB"
        px = im.getpixel((0, 0))
    assert px == (255, 255, 255)  # the rig's white background


def test_batch_with_failure_keeps_going(sugar_box_path, bunny_path, tmp_path, capsys):
    bad = tmp_path / "broken.glb"
    bad.write_bytes(b"not a glb")
    out = tmp_path / "grids"
    rc = main(["render", str(sugar_box_path), str(bad), str(bunny_path), "-o", str(out), "--resolution", "16",
               "--backend", "torch", "--background", "transparent"])
    assert rc == 1
    names = sorted(p.name for p in out.iterdir())
    assert names == ["004_sugar_box_1k.png", "bunny.png"]
    with Image.open(out / "bunny.png") as im:
        assert im.mode == "RGBA" and im.size == (32, 32)
        assert im.getpixel((0, 0))[3] == 0
    err = capsys.readouterr().err
    assert "1 of 3 assets failed" in err and "broken.glb" in err


def test_views_elevations_and_save_views(bunny_path, tmp_path):
    out = tmp_path / "ring.png"
    rc = main(["render", str(bunny_path), "-o", str(out), "--resolution", "16", "--views", "3",
               "--elevations", "0", "30", "--save-views", "--background", "0", "0", "0.5", "--ssaa", "1"])
    assert rc == 0
    with Image.open(out) as im:
        assert im.size == (3 * 16, 2 * 16)
        assert im.getpixel((0, 0)) == (0, 0, 128)
    views = tmp_path / "ring_views"
    assert len(list(views.glob("view_*.png"))) == 6
    cams = Cameras.from_json(json.loads((views / "cameras.json").read_text()))
    assert len(cams) == 6 and cams.width == 16
    assert sorted(set(cams.pitch_deg.tolist())) == [0.0, 30.0]


@pytest.mark.parametrize("argv, message", [
    (["-o", "x.jpg"], "must end in .png"),
    (["--background", "pink"], "--background"),
])
def test_bad_options_are_one_line(sugar_box_path, tmp_path, capsys, argv, message):
    args = ["render", str(sugar_box_path), "-o", str(tmp_path / "g.png"), "--resolution", "16"] + argv
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_missing_single_asset_is_one_line(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.glb"), "-o", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.glb" in err[0]


def _run_python(code: str) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


def test_render_help_imports_no_torch():
    code = ("import argparse, contextlib, io, sys\n"
            "import photo3d.cli.render as cmd\n"
            "parser = argparse.ArgumentParser(prog='photo3d')\n"
            "cmd.register(parser.add_subparsers())\n"
            "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
            "    try:\n"
            "        parser.parse_args(['render', '--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "assert '--resolution' in buf.getvalue() and '--backend' in buf.getvalue()\n"
            "print('torch' in sys.modules)\n")
    assert _run_python(code) == "False"


def test_photo3d_help_runs_without_torch():
    code = ("import contextlib, io, sys\n"
            "from photo3d.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
            "    try:\n"
            "        main(['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "assert 'render' in buf.getvalue()\n"
            "print('torch' in sys.modules)\n")
    assert _run_python(code) == "False", "some photo3d.cli command module imports torch at module level"
