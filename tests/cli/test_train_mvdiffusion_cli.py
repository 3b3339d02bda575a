"""``photo3d train mvdiffusion``: a smoke run with the tiny model, its outputs, and one-line errors."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from photo3d.cli import main

pytest.importorskip("diffusers")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


def test_smoke_run_writes_the_run_folder_and_the_released_adapter_file(mv_tiny, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "mvdiffusion", "--data", str(mv_tiny), "--out", str(out), "--model", "tiny",
               "--encoders", "tiny", "--steps", "2", "--resolution", "32", "--sample-steps", "2",
               "--preview-every", "1", "--ckpt-every", "1", "--lr", "1e-3", "--warmup-steps", "0"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "stand-in" in text and "step1x-3d-ig2v.safetensors" in text
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and all(r["loss"] > 0 for r in log)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["paradigm"] == "mvdiffusion" and cfg["generator"]["standin"] is True
    assert cfg["mvdiffusion"]["layout"] == "step1x3d" and cfg["train"]["weight_decay"] == 0.01  # Step1X-3D recipe
    with Image.open(out / "samples" / "grid_0.png") as im:
        assert im.size == (64, 64)
    assert len(list((out / "previews").glob("*.png"))) == 2
    from photo3d.paradigms.mvdiffusion.weights import read_safetensors

    keys = read_safetensors(out / "step1x-3d-ig2v.safetensors")
    assert any(k.endswith("attn1.processor.to_out_mv.0.weight") for k in keys) and "adapter.conv_in.weight" in keys
    from photo3d.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(out / "checkpoints" / "latest.safetensors")
    assert set(ckpt["modules"]) == {"mv_attention", "cond_encoder"}  # not the frozen SDXL parts


def test_bad_options_fail_with_one_line(mv_tiny, tmp_path, capsys):
    rc = main(["train", "mvdiffusion", "--data", str(mv_tiny), "--out", str(tmp_path / "a"), "--model", "tiny",
               "--encoders", "tiny", "--steps", "1", "--resolution", "40"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "multiple of 16" in err and len(err.splitlines()) == 1
    rc = main(["train", "mvdiffusion", "--data", str(mv_tiny), "--out", str(tmp_path / "b"),
               "--model", str(tmp_path / "no-weights"), "--encoders", "tiny", "--steps", "1"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "no such weights folder" in err and len(err.splitlines()) == 1
