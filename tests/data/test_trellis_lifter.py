"""The builder's image-to-3D stage on photo3d.trellis (tiny random weights): colour kept, SLAT written."""

import json

import numpy as np
from PIL import Image

from photo3d.data import build
from photo3d.data.config import config_from_dict
from photo3d.data.stages_grid import render_asset_grid
from photo3d.testing import FakeOpenAIServer
from photo3d.train.dataset import Photo3DMVDataset


def test_prompt_path_with_the_trellis_lifter(api_key, tmp_path):
    out = tmp_path / "out"
    with FakeOpenAIServer() as srv:
        build(config_from_dict({
            "out": str(out), "source": {"prompts": ["a red teapot"]},
            "api": {"base_url": srv.base_url, "backoff_base_s": 0.01},
            "rewrite": {"backend": "openai", "model": "fake-llm"}, "text_to_image": {"backend": "openai", "model": "fake-t2i", "size": 64},
            "matting": {"backend": "threshold"}, "image_to_3d": {"backend": "trellis", "model": "tiny", "device": "cpu"},
            "render": {"resolution": 32, "backend": "torch"}, "executor": {"progress": False}}))
    (row,) = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert row["status"] == "ok", row
    info = row["models"]["image_to_3d"]
    assert info["backend"] == "trellis" and info["is_paper_model"] is False and "stand-in" in info["model"]
    assert (out / "0" / "gaussians.ply").is_file() and (out / "0" / "slat.npz").is_file()
    assert not (out / "0" / "mesh.obj").exists()
    render = np.asarray(Image.open(out / "renders" / "grid_0.png").convert("RGB")).astype(float)
    splat = render_asset_grid(out / "0" / "gaussians.ply", 32, frame="gaussians")  # the grid is the Gaussians' render
    assert np.abs(render - splat.permute(1, 2, 0).numpy() * 255).max() <= 1.0
    sample = Photo3DMVDataset(out, resolution=32)[0]  # the trainer reads the written SLAT
    assert sample["slat"]["feats"].shape[1] == 8 and sample["mesh_path"] is None


def test_gaussian_assets_render_in_colour(tmp_path):
    import torch

    from photo3d.gaussians import Gaussians, save_ply

    pts = torch.rand(400, 3) * 0.4 - 0.2
    path = save_ply(tmp_path / "g.ply", Gaussians.from_points(pts, torch.tensor([[0.9, 0.1, 0.1]]).repeat(400, 1), 0.03))
    grid = render_asset_grid(path, 32, frame="gaussians")
    centre = grid[:, 8:24, 8:24].reshape(3, -1).mean(1)  # top-left view, around the object
    assert centre[0] > centre[1] + 0.2 and centre[0] > centre[2] + 0.2
