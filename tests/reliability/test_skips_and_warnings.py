"""Failure class (the smaller ones): silent downsizing, one broken mesh aborting a whole run,
warnings printed as ``file.py:168: UserWarning``.

An 8192² texture was optimised and exported at 2048² without a word; one broken mesh ended a
training run or an evaluation; warnings showed Python's file/line form. Now the downsizing is a
warning line, a broken sample or item is skipped with its reason while the rest goes on, and every
warning prints as one ``photo3d CMD: warning: ...`` line.
"""

from __future__ import annotations

import json

from reliability_helpers import ENHANCE_FAST, TRAIN_FAST, copy_mv_tiny, run


def test_a_downsized_texture_is_a_warning_line(cube_case, tmp_path, capsys, monkeypatch):
    """Guards: a texture above the automatic cap (2048 px; 8192² in the report) was exported
    smaller without a word. Here the cap is lowered to the cube's 48 px so no 8192² texture must
    be built: the rule is the same. Now one warning line says so, and record.json notes it."""
    import photo3d.enhance.pipeline as pipeline

    monkeypatch.setattr(pipeline, "MAX_AUTO_TEXTURE", 32)
    asset, ref = cube_case
    # --force: the downsized random texel pattern no longer matches the reference's edges
    code, _, err = run(["enhance", asset, "-r", ref, "-o", tmp_path / "out", *ENHANCE_FAST, "--force"], capsys)
    assert code == 0, err
    warning = [line for line in err if line.startswith("photo3d enhance: warning: material")]
    assert warning == ["photo3d enhance: warning: material 0's 48x32 texture is optimised and exported at 32x21 "
                       "(the automatic cap); pass --texture-size 48 to keep its size"], err
    assert any("exported at 32x21" in n for n in json.loads((tmp_path / "out" / "record.json").read_text())["notes"])


def test_a_broken_mesh_is_skipped_in_training(tmp_path, capsys):
    """Guards: one sample whose mesh does not load aborted ``photo3d train`` at its first step.
    Now the sample is skipped with its reason (one warning line) and training goes on."""
    data = copy_mv_tiny(tmp_path / "mv")
    (data / "1" / "mesh.obj").write_text("v 0 0 0\nthis is not an obj file\n")
    out = tmp_path / "run"
    code, _, err = run(["train", "coupled", "--data", data, "--out", out, *TRAIN_FAST, "--steps", "3"], capsys)
    assert code == 0, err
    skipped = [line for line in err if line.startswith("photo3d train: warning: sample 1 skipped: ")]
    assert len(skipped) == 1 and "1/mesh.obj" in skipped[0], err  # warned once, naming the file
    steps = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert any("loss" in s for s in steps)  # the usable sample still trains
    assert all(s.get("reason") == "no usable sample" for s in steps if s.get("skipped"))


def test_a_broken_asset_is_skipped_in_eval(tmp_path, capsys):
    """Guards: one asset that does not load aborted ``photo3d eval`` over a folder of assets. Now
    it is skipped with its reason (a warning line, ``skipped_items`` in results.json)."""
    from reliability_helpers import cube

    assets = tmp_path / "assets"
    assets.mkdir()
    cube.write_cube(assets / "good.glb", cube.cube_texture(0))
    (assets / "broken.glb").write_bytes(b"glTF" + b"\x00" * 40)
    out = tmp_path / "eval"
    code, _, err = run(["eval", assets, "-o", out, "--metrics", "silhouette_iou", "--resolution", "32",
                        "--cameras", "rig", "--quiet"], capsys)
    assert code == 0, err
    assert [line for line in err if "warning:" in line][0].startswith("photo3d eval: warning: ")
    results = json.loads((out / "results.json").read_text())
    (skipped,) = results["skipped_items"]
    assert skipped["id"] == "broken" and "broken.glb" in skipped["reason"]
    assert next(iter(results["methods"].values()))["n_items"] == 1


def test_warnings_are_one_line_each(tmp_path, capsys):
    """Guards: warnings printed as ``.../dataset.py:60: UserWarning: ...`` plus a source line.
    Now each is one ``photo3d CMD: warning: MESSAGE`` line."""
    data = copy_mv_tiny(tmp_path / "mv")
    (data / "grid_1.png").write_bytes(b"not a png")  # the dataset reader warns and skips it
    code, _, err = run(["train", "coupled", "--data", data, "--out", tmp_path / "run", *TRAIN_FAST], capsys)
    assert code == 0, err
    assert not [line for line in err if "UserWarning" in line or ".py:" in line], err
    assert [line for line in err if "warning:" in line] == [
        line for line in err if line.startswith("photo3d train: warning: ")] != []
