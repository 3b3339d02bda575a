"""``photo3d texture`` and ``photo3d bake`` through the console entry point."""

from __future__ import annotations

import json

import pytest
import torch

from photo3d.cli import main

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.filterwarnings("ignore::UserWarning")]
FAST = ["--texture-size", "64", "--preview-resolution", "48", "--no-progress", "--no-turntable", "--backend", "torch"]


@pytest.fixture(scope="module")
def textured(tmp_path_factory, sugar_box_path):
    """``photo3d texture`` with the views double on the sugar box, into its own UVs."""
    out = tmp_path_factory.mktemp("tex") / "out"
    code = main(["texture", str(sugar_box_path), "--prompt", "a cereal box", "--model", "testing-views",
                 "--weights", "tiny", "-o", str(out), "--uv", "keep", "--option", "resolution=96", *FAST])
    return code, out


def test_texture_command_writes_a_glb_and_a_record(textured, capsys):
    code, out = textured
    assert code == 0
    rec = json.loads((out / "record.json").read_text())
    assert rec["command"] == "photo3d texture" and rec["texturer"]["standin"] is True
    assert (out / "textured.glb").is_file() and (out / "grid.png").is_file() and (out / "views" / "cameras.json").is_file()


def test_bake_command_rebakes_the_texture_commands_views(textured, tmp_path, sugar_box_path, capsys):
    from photo3d.assets import load_asset

    _, out = textured
    glb = tmp_path / "rebaked.glb"
    assert main(["bake", str(sugar_box_path), "--views", str(out / "views"), "-o", str(glb),
                 "--texture-size", "64", "--backend", "torch"]) == 0
    assert "baked 6 views" in capsys.readouterr().out
    a = load_asset(out / "textured.glb").mesh.materials[0].base_color_texture.astype(float)
    b = load_asset(glb).mesh.materials[0].base_color_texture.astype(float)
    assert abs(a - b).mean() < 1.0  # the same views, weights and cameras: the same texture


def test_bake_command_reads_a_grid_with_cameras_and_the_rig_grid(tmp_path, sugar_box_path, capsys):
    from photo3d.cameras import rig_cameras, step1x3d_rig_cameras
    from photo3d.grid import compose_grid
    from photo3d.io import atomic_write_json, save_image
    from photo3d.render import render_views

    from photo3d.assets import load_asset

    asset = load_asset(sugar_box_path)
    cams = step1x3d_rig_cameras(48)
    strip = compose_grid(render_views(asset, cams, backend="torch").rgb, 1, 6)  # 1 x 6 strip: 288 x 48
    save_image(tmp_path / "strip.png", strip)
    atomic_write_json(tmp_path / "cams.json", cams.to_json())
    assert main(["bake", str(sugar_box_path), "--views", str(tmp_path / "strip.png"), "--cameras",
                 str(tmp_path / "cams.json"), "-o", str(tmp_path / "a.glb"), "--texture-size", "32",
                 "--backend", "torch"]) == 0
    save_image(tmp_path / "grid.png", compose_grid(render_views(asset, rig_cameras(48), backend="torch").rgb))
    assert main(["bake", str(sugar_box_path), "--views", str(tmp_path / "grid.png"), "-o", str(tmp_path / "b.glb"),
                 "--texture-size", "32", "--backend", "torch"]) == 0
    # A grid that fits neither the cameras nor the rig is one line, exit 2.
    save_image(tmp_path / "odd.png", torch.ones(3, 48, 100))
    capsys.readouterr()
    assert main(["bake", str(sugar_box_path), "--views", str(tmp_path / "odd.png"), "--cameras",
                 str(tmp_path / "cams.json"), "-o", str(tmp_path / "c.glb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not split into 6 views" in err[0]
    assert not (tmp_path / "c.glb").exists()


def test_missing_paradigm_and_bad_weights_are_one_line(monkeypatch, tmp_path, bunny_path, capsys):
    from photo3d.texture import registry

    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))
    registry.register_texturer("ghost", "photo3d.paradigms.ghost.texturer:build_texturer", "not shipped")
    args = ["texture", str(bunny_path), "--prompt", "x", "-o", str(tmp_path / "o"), *FAST]
    assert main([*args, "--model", "ghost", "--weights", "tiny"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "texturer 'ghost' is not available" in err[0]
    assert main([*args, "--model", "testing-views", "--weights", str(tmp_path)]) == 2
    assert "--weights tiny" in capsys.readouterr().err
    assert not (tmp_path / "o" / "record.json").exists()


def test_help_lists_models_and_examples(capsys):
    with pytest.raises(SystemExit):
        main(["texture", "--help"])
    text = capsys.readouterr().out
    assert "mvdiffusion" in text and "feedforward" in text and "examples:" in text
    with pytest.raises(SystemExit):
        main(["bake", "--help"])
    assert "examples:" in capsys.readouterr().out


def test_bake_keep_on_a_multi_material_mesh_asks_for_an_atlas(tmp_path, capsys):
    from photo3d.grid import compose_grid
    from photo3d.io import save_image

    (tmp_path / "m.mtl").write_text("newmtl a\nKd 1 0 0\nnewmtl b\nKd 0 1 0\n")
    (tmp_path / "m.obj").write_text(
        "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n"
        "usemtl a\nf 1/1 2/2 3/3\nusemtl b\nf 1/1 3/3 4/4\n")
    save_image(tmp_path / "grid.png", compose_grid(torch.ones(4, 3, 16, 16)))
    assert main(["bake", str(tmp_path / "m.obj"), "--views", str(tmp_path / "grid.png"), "-o",
                 str(tmp_path / "o.glb"), "--texture-size", "16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--uv atlas" in err[0]
