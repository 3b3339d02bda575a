"""photo3d doctor: offline report from empty caches, weights found where each loader looks, keys
never printed, and the README's "What runs where" table naming the same models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from photo3d import doctor
from photo3d.cli import main
from photo3d.testing.caches import write_file, write_hf_snapshot

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("enhance", "data build", "train coupled", "train feedforward", "train mvdiffusion", "eval", "texture",
            "generate", "bake")
SECRET = "sk-test-never-printed-0123456789"


@pytest.fixture
def empty_machine(tmp_path, monkeypatch):
    """No weights anywhere: empty hub / torch / CLIP caches, no PHOTO3D_* variables."""
    import huggingface_hub.constants
    import torch

    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in [v for v in __import__("os").environ if v.startswith("PHOTO3D_") or v == "OPENAI_API_KEY"]:
        monkeypatch.delenv(var)
    return hub


def test_offline_report_covers_every_model_and_command(empty_machine, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(["doctor", "--json"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    data = json.loads(out)
    models = {m["model"]: m for m in data["models"]}
    assert list(models) == list(doctor.MODEL_NAMES)
    absent = [m for m in models.values() if not m["found"]]
    api_models = {"GPT-4o-Image", "Gemini-2.5"}
    assert {m["model"] for m in absent} == set(doctor.MODEL_NAMES) - {"FID Inception-v3"} - api_models
    assert all(models[n]["found"] and models[n]["via"] == "$OPENAI_API_KEY" for n in api_models)
    assert all(m["how"] and m["standin"] for m in absent)  # each says how to get it and what runs instead
    assert "huggingface-cli download openai/clip-vit-base-patch32" in models["CLIP ViT-B/32"]["how"]
    assert data["api"] == {"key_env": "OPENAI_API_KEY", "key_set": True, "base_url": None}
    plans = {c["command"]: c for c in data["commands"]}
    assert tuple(plans) == COMMANDS
    assert plans["enhance"]["standin"] and "Inception" in plans["enhance"]["runs"]
    assert plans["generate"]["standin"] and plans["train mvdiffusion"]["standin"]
    assert {b["name"] for b in data["backends"]} >= {"CUDA", "EGL (OpenGL visibility)", "nvdiffrast", "gsplat"}
    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert SECRET not in text and "OPENAI_API_KEY" in text and "never printed" in text


def test_weights_are_found_where_the_loaders_look(empty_machine, tmp_path, monkeypatch):
    from photo3d.trellis.presets import NETWORK_KEYS

    clip = write_file(tmp_path / "clip" / "config.json").parent
    monkeypatch.setenv("PHOTO3D_CLIP", str(clip))
    write_hf_snapshot(empty_machine, "facebook/dinov3-vitl16-pretrain-lvd1689m", ["config.json"])
    pipeline = {"args": {"models": {k: f"ckpts/{k}" for k in NETWORK_KEYS}}}
    write_hf_snapshot(empty_machine, "microsoft/TRELLIS-image-large",
                      {"pipeline.json": json.dumps(pipeline).encode(), **{f"ckpts/{k}.json": b"{}" for k in NETWORK_KEYS}})
    write_hf_snapshot(empty_machine, "facebook/dinov2-with-registers-large", ["config.json"])
    write_hf_snapshot(empty_machine, "ymxbj/TexGaussian", ["PBR_model.safetensors"])
    report = doctor.diagnose()
    assert report.model("CLIP ViT-B/32").where == str(clip) and report.model("CLIP ViT-B/32").via == "$PHOTO3D_CLIP"
    assert report.model("DINOv3 ViT-L/16").via == "hub cache" and report.model("DINOv3 ViT-L/16").found
    assert report.model("TRELLIS-image-large").found
    assert report.model("TexGaussian PBR U-Net").where.endswith("PBR_model.safetensors")
    plans = {c.command: c for c in report.commands}
    assert not plans["enhance"].standin and "DINOv3" in plans["enhance"].runs
    assert not plans["generate"].standin and plans["train mvdiffusion"].standin
    assert plans["train feedforward"].standin  # its CLIP ViT-L/14 text tower is still missing


def test_a_pipeline_json_alone_is_not_trellis(empty_machine):
    """TRELLIS's loader wants every network's ckpts/<name>.json next to pipeline.json."""
    write_hf_snapshot(empty_machine, "microsoft/TRELLIS-image-large", {"pipeline.json": b'{"args": {"models": {}}}'})
    trellis = doctor.diagnose().model("TRELLIS-image-large")
    assert not trellis.found and "models." in trellis.how


def test_loader_locate_functions_read_given_folders(tmp_path):
    from photo3d.paradigms.feedforward.checkpoint import locate_weights as locate_texgaussian
    from photo3d.paradigms.mvdiffusion.weights import locate_weights as locate_mv
    from photo3d.trellis.weights import locate_photo3d_checkpoint, locate_weights as locate_trellis

    sdxl = tmp_path / "mv" / "stable-diffusion-xl-base-1.0"
    for f in ("unet/config.json", "vae/config.json", "text_encoder_2/config.json"):
        write_file(sdxl / f)
    assert not locate_mv(tmp_path / "mv").found and "adapter" in locate_mv(tmp_path / "mv").how
    write_file(tmp_path / "mv" / "step1x-3d-ig2v.safetensors")
    assert locate_mv(tmp_path / "mv").where == str(sdxl)
    ckpt = write_file(tmp_path / "tg" / "PBR_model.safetensors")
    assert locate_texgaussian(tmp_path / "tg").where == str(ckpt)
    assert not locate_texgaussian(tmp_path / "nothing.safetensors").found
    assert not locate_trellis(tmp_path / "mv").found
    write_file(tmp_path / "p3d" / "slat_denoiser.pt")
    assert not locate_photo3d_checkpoint(str(tmp_path / "p3d")).found
    write_file(tmp_path / "p3d" / "decoder.safetensors")
    assert locate_photo3d_checkpoint(str(tmp_path / "p3d")).found


def _readme_table() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## What runs where", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]  # past header + rule


def test_readme_table_names_doctors_models_and_commands():
    rows = _readme_table()
    named = {name.strip() for row in rows for name in re.split(r";", row[1]) if name.strip() not in ("", "—")}
    assert named == set(doctor.MODEL_NAMES)
    commands = {c.strip().strip("`") for row in rows for c in row[2].split(",")}
    assert set(COMMANDS) <= commands


def test_doctor_checks_the_folders_commands_take(empty_machine, tmp_path, capsys):
    sdxl = tmp_path / "mv" / "stable-diffusion-xl-base-1.0"
    for f in ("unet/config.json", "vae/config.json", "text_encoder_2/config.json"):
        write_file(sdxl / f)
    write_file(tmp_path / "mv" / "mvadapter_ig2mv_sdxl.safetensors")
    assert main(["doctor", "--json", "--mvdiffusion", str(tmp_path / "mv"), "--trellis", str(tmp_path / "none")]) == 0
    data = json.loads(capsys.readouterr().out)
    models = {m["model"]: m for m in data["models"]}
    assert models["SDXL + Step1X-3D adapter"]["where"] == str(sdxl)
    assert not models["TRELLIS-image-large"]["found"] and "pipeline.json" in models["TRELLIS-image-large"]["how"]
    assert not {c["command"]: c for c in data["commands"]}["train mvdiffusion"]["standin"]
    with pytest.raises(ValueError, match="unknown doctor paths"):
        doctor.diagnose({"flux": "x"})


def test_a_damaged_pipeline_json_is_reported_not_raised(tmp_path):
    from photo3d.trellis.weights import locate_weights

    write_file(tmp_path / "t" / "pipeline.json", b'{"args": ')
    found = locate_weights(tmp_path / "t")
    assert not found.found and "pipeline.json" in found.how and "\n" not in found.how
