"""End to end: imported edits on the sugar box, re-edits, the prompt path, the CLI, Ray."""

import json
import shutil

import pytest
from data_helpers import asset_config, make_tiny_assets, write_config

from photo3d.cli import main
from photo3d.data import build, status
from photo3d.data.config import config_from_dict
from photo3d.data.stages_grid import render_asset_grid
from photo3d.io import encode_png
from photo3d.testing import FakeOpenAIServer
from photo3d.testing.openai_server import fake_edit


def rows(out):
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_asset_folder_with_imported_edits(sugar_box_path, tmp_path):
    assets = make_tiny_assets(tmp_path / "assets", 1)  # obj_00 (id 1 after the sugar box)
    shutil.copy(sugar_box_path, assets / "a_sugar_box.glb")
    edits = tmp_path / "edits"
    edits.mkdir()
    # edits made "elsewhere": a photoreal one by id for the sugar box, a mirrored one by key for obj_00
    sugar = encode_png(render_asset_grid(assets / "a_sugar_box.glb", 64, backend="torch"))
    (edits / "grid_0.png").write_bytes(fake_edit(sugar, "p", "photoreal"))
    box = encode_png(render_asset_grid(assets / "obj_00.glb", 64, backend="torch"))
    (edits / "obj_00.png").write_bytes(fake_edit(box, "p", "mirror"))
    cfg = config_from_dict(asset_config(tmp_path / "out", assets, None, render={"resolution": 64},
                                        edit={"backend": "import", "import_dir": str(edits)}))
    build(cfg)
    out = tmp_path / "out"
    r = rows(out)
    assert [x["status"] for x in r] == ["ok", "failed"]
    assert r[0]["key"] == "a_sugar_box" and r[0]["verification"]["accepted"]
    assert r[1]["reason"] == "verification_failed" and r[1]["permanent"]
    assert len(r[1]["failure_details"]["attempts"]) == 1  # imported edits cannot be re-edited
    assert (out / "grid_0.png").is_file() and not (out / "grid_1.png").exists()
    assert (out / "renders" / "grid_0.png").read_bytes() == sugar
    obj = (out / "0" / "mesh.obj").read_text()
    assert obj.startswith("mtllib mesh.mtl") and "map_Kd mesh_tex0.png" in (out / "0" / "mesh.mtl").read_text()
    verts = [list(map(float, line.split()[1:4])) for line in obj.splitlines() if line.startswith("v ")]
    assert max(max(abs(c) for c in v) for v in verts) <= 0.5 + 1e-5  # TRELLIS frame: inside [-0.5, 0.5]^3
    assert (out / "prompts.txt").read_text().splitlines() == ["a sugar box", "obj 00"]


def test_failed_verification_triggers_a_re_edit(api_key, tmp_path):
    assets = make_tiny_assets(tmp_path / "assets", 1)
    with FakeOpenAIServer(edit_modes=["shift"]) as srv:
        build(config_from_dict(asset_config(tmp_path / "out", assets, srv.base_url)))
        assert srv.calls["edits"] == 2
    (row,) = rows(tmp_path / "out")
    assert row["status"] == "ok" and row["retries"] == 1
    attempts = row["stages"]["edit"]["attempts"]
    assert [a["accepted"] for a in attempts] == [False, True]
    from photo3d.data.api_models import DEFAULT_EDIT_MODEL
    from photo3d.data.config import ApiConfig

    assert row["cost_usd"] == pytest.approx(2 * ApiConfig().prices[DEFAULT_EDIT_MODEL])


def test_prompt_path_with_stand_ins(api_key, tmp_path):
    with FakeOpenAIServer() as srv:
        cfg = config_from_dict({
            "out": str(tmp_path / "out"), "source": {"prompts": ["a cute cat, 8k, artstation", "an old oak table"]},
            "api": {"base_url": srv.base_url, "backoff_base_s": 0.01},
            "rewrite": {"backend": "openai", "model": "fake-llm"}, "text_to_image": {"backend": "openai", "model": "fake-t2i", "size": 48},
            "matting": {"backend": "threshold"}, "image_to_3d": {"backend": "card"},
            "render": {"resolution": 32, "backend": "torch"}, "executor": {"progress": False}})
        build(cfg)
        build(cfg)
        assert dict(srv.calls) == {"chat": 2, "generations": 2, "edits": 2}
    r = rows(tmp_path / "out")
    assert [x["status"] for x in r] == ["ok", "ok"]
    assert r[0]["models"]["image_to_3d"]["model"].startswith("card (offline stand-in")
    lines = (tmp_path / "out" / "prompts.txt").read_text().splitlines()
    assert lines[0].startswith("a cute cat") and lines[0].endswith("white background")
    assert r[0]["prompt"] == lines[0] and r[0]["source"]["prompt"] == "a cute cat, 8k, artstation"


def test_cli_build_and_status(api_key, tmp_path, capsys):
    assets = make_tiny_assets(tmp_path / "assets", 2)
    with FakeOpenAIServer(faults=["edits:policy"]) as srv:
        cfg = write_config(tmp_path / "c.json", asset_config(tmp_path / "out", assets, srv.base_url,
                                                             executor={"concurrency": {"edit": 1}}))
        assert main(["data", "build", str(cfg), "--no-progress"]) == 0
    assert main(["data", "status", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "content_policy=1" in text and "samples: failed 1, ok 1" in text and "$0.13" in text
    assert main(["data", "status", str(tmp_path / "out"), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["stages"]["edit"] == {"done": 1, "failed": 1, "failures": {"content_policy": 1}}
    assert main(["data", "status", str(tmp_path / "nowhere")]) == 2
    assert main(["data", "build", str(tmp_path / "missing.toml")]) == 2


def test_ray_executor_matches_local(api_key, tmp_path):
    ray = pytest.importorskip("ray")
    from photo3d.data import RayExecutor

    assets = make_tiny_assets(tmp_path / "assets", 3)
    with FakeOpenAIServer() as srv:
        conc = {"render": 1, "edit": 2, "write": 1}
        local = config_from_dict(asset_config(tmp_path / "local", assets, srv.base_url, executor={"concurrency": conc}))
        build(local)
        remote = config_from_dict(asset_config(tmp_path / "ray", assets, srv.base_url))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            res = build(remote, executor=RayExecutor(conc, progress=False))
        finally:
            ray.shutdown()
        assert res.stats.finished == 3 and srv.calls["edits"] == 6
    for name in ("manifest.jsonl", "prompts.txt", "grid_0.png", "grid_2.png", "2/mesh.obj", "renders/grid_1.png"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name
    assert status(tmp_path / "ray")["stages"]["write"]["done"] == 3
