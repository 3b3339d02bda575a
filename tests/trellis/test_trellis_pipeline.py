"""Image -> Gaussians end to end with tiny random weights; ``photo3d generate``; Photo3D's checkpoint swap."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from photo3d.cli import main
from photo3d.gaussians import load_ply
from photo3d.trellis.pipeline import TrellisPipeline
from photo3d.trellis.presets import preset
from photo3d.trellis.sampler import SamplerParams
from photo3d.trellis.weights import build_network

FAST = SamplerParams(steps=2, cfg_strength=3.0, cfg_interval=(0.5, 0.95), rescale_t=3.0)


def test_run_is_seeded_and_consistent(tiny_pipeline, object_image):
    a = tiny_pipeline.run(object_image, seed=3, progress=False, structure_params=FAST, slat_params=FAST)
    b = tiny_pipeline.run(object_image, seed=3, progress=False, structure_params=FAST, slat_params=FAST)
    c = tiny_pipeline.run(object_image, seed=4, progress=False, structure_params=FAST, slat_params=FAST)
    assert torch.equal(a.coords, b.coords) and torch.equal(a.slat, b.slat)
    assert not (a.coords.shape == c.coords.shape and torch.equal(a.slat, c.slat))
    k = preset("tiny")["slat_decoder_gs"]["args"]["representation_config"]["num_gaussians"]
    assert len(a.gaussians) == len(a.coords) * k and a.slat.shape == (len(a.coords), 8)
    assert a.coords.min() >= 0 and a.coords.max() < 16 and a.condition_image.size == (518, 518)
    assert tiny_pipeline.description["is_paper_model"] is False


def test_generate_cli_end_to_end_with_tiny_weights(tmp_path, object_image, capsys):
    src = tmp_path / "photo.png"
    object_image.save(src)
    out = tmp_path / "out"
    argv = ["generate", str(src), "-o", str(out), "--weights", "tiny", "--ss-steps", "2", "--slat-steps", "2",
            "--resolution", "32", "--device", "cpu", "--seed", "5"]
    assert main(argv) == 0
    assert "STAND-IN" in capsys.readouterr().out
    for name in ("gaussians.ply", "slat.npz", "grid.png", "turntable.png", "turntable.gif", "condition.png", "record.json"):
        assert (out / name).is_file(), name
    record = json.loads((out / "record.json").read_text())
    assert record["model"]["is_paper_model"] is False and "stand-in" in record["model"]["weights"]
    assert record["samplers"]["slat"] == {"steps": 2, "cfg_strength": 3.0, "cfg_interval": [0.5, 0.95], "rescale_t": 3.0}
    g = load_ply(out / "gaussians.ply")
    with np.load(out / "slat.npz") as z:
        assert z["coords"].shape == (record["voxels"], 3) and z["feats"].shape == (record["voxels"], 8)
    assert len(g) == record["gaussians"] == 4 * record["voxels"]
    from PIL import Image

    with Image.open(out / "grid.png") as im:
        assert im.size == (64, 64)


def test_generate_cli_errors_are_one_line(tmp_path, capsys, object_image):
    assert main(["generate", str(tmp_path / "none.png"), "-o", str(tmp_path / "o"), "--weights", "tiny"]) == 2
    assert "no such image file" in capsys.readouterr().err
    src = tmp_path / "photo.png"
    object_image.save(src)
    assert main(["generate", str(src), "-o", str(tmp_path / "o"), "--weights", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "huggingface-cli download microsoft/TRELLIS-image-large" in err
    assert main(["generate", str(src), "-o", str(tmp_path / "o")]) == 2
    assert "--weights is required" in capsys.readouterr().err


def test_photo3d_checkpoint_replaces_stage_two(tiny_weights, tmp_path):
    nets = preset("tiny")
    torch.manual_seed(7)
    flow, dec = build_network(nets["slat_flow_model"]), build_network(nets["slat_decoder_gs"])
    ck = tmp_path / "Trellis"
    ck.mkdir()
    torch.save({"denoiser": flow.state_dict()}, ck / "slat_denoiser.pt")
    (ck / "config.json").write_text(json.dumps({"models": {"denoiser": {**nets["slat_flow_model"],
                                                                        "name": "ElasticSLatFlowModel"}}}))
    from safetensors.torch import save_file

    dino = {"dino_cross_attns.0.gate": torch.zeros(1), "dino_cross_attns.0.dino_proj.weight": torch.zeros(32, 1024)}
    save_file({**dec.state_dict(), **dino}, str(ck / "decoder.safetensors"))
    pipe = TrellisPipeline.from_folder(tiny_weights, "cpu", checkpoint=str(ck))
    torch.testing.assert_close(pipe.models["slat_flow_model"].state_dict(), flow.state_dict())
    torch.testing.assert_close(pipe.models["slat_decoder_gs"].state_dict(), dec.state_dict())
    notes = pipe.description["photo3d_checkpoint"]
    assert notes["decoder_keys_kept_from_base"] == 0 and notes["decoder_keys_skipped"].startswith("2 DINOv3")
    from photo3d.errors import WeightsNotFoundError

    with pytest.raises(WeightsNotFoundError, match="LaPetitRose/Photo3D_models"):
        TrellisPipeline.from_folder(tiny_weights, "cpu", checkpoint=str(tmp_path))


@pytest.mark.gpu
def test_generate_on_cuda_in_bf16(tiny_weights, object_image):
    pipe = TrellisPipeline.from_folder(tiny_weights, "cuda", torch.bfloat16)
    res = pipe.run(object_image, seed=0, progress=False, structure_params=FAST, slat_params=FAST)
    assert res.gaussians.means.is_cuda and torch.isfinite(res.gaussians.means).all()
