"""The multi-view texturer: views of a mesh on the Step1X-3D rig, and `photo3d texture` end to end."""

from __future__ import annotations

import json

import torch

from photo3d.cameras import STEP1X3D_VIEW_WEIGHTS
from photo3d.cli import main


def test_texturer_gives_the_rig_views_on_white(cube):
    from photo3d.paradigms.mvdiffusion.texturer import build_texturer

    tex = build_texturer("tiny", "cpu", steps=2, progress=False)
    assert tex.name == "mvdiffusion" and tex.resolution == 64
    res = tex.texture(cube, "a box", None, seed=3)
    assert res.images.shape == (6, 3, 64, 64) and float(res.images.min()) >= 0 and float(res.images.max()) <= 1
    assert res.cameras.is_orthographic and len(res.cameras) == 6 and res.cameras.width == 64
    assert res.view_weights == list(STEP1X3D_VIEW_WEIGHTS)
    assert res.record["standin"] is True and res.record["steps"] == 2 and res.record["seed"] == 3
    from photo3d.paradigms.mvdiffusion.conditions import render_geometry
    from photo3d.render import MeshTensors

    mask = render_geometry(MeshTensors.from_mesh(cube), res.cameras).mask.expand(-1, 3, -1, -1)
    assert torch.all(res.images[~mask] == 1.0) and (res.images[mask] < 1.0).any()
    again = tex.texture(cube, "a box", None, seed=3)
    assert torch.equal(again.images, res.images)
    ref = torch.ones(3, 40, 40)
    ref[:, 10:30, 12:28] = torch.tensor([0.8, 0.2, 0.1]).view(3, 1, 1)
    with_ref = tex.texture(cube, "a box", ref, seed=3)
    # a fresh adapter's reference branch is zero-initialised: the image changes nothing yet...
    assert with_ref.record["reference_image"] is True and torch.equal(with_ref.images, res.images)
    with torch.no_grad():  # ...a trained one's does
        for proc in tex.model.mv_attention().values():
            proc.to_out_ref[0].weight.normal_(0, 0.1)
    assert not torch.equal(tex.texture(cube, "a box", ref, seed=3).images, tex.texture(cube, "a box", None, seed=3).images)


def test_texture_command_writes_a_glb_with_the_tiny_model(bunny_path, tmp_path):
    from photo3d.assets import load_asset

    out = tmp_path / "bunny"
    rc = main(["texture", str(bunny_path), "--prompt", "a ceramic bunny", "--model", "mvdiffusion",
               "--weights", "tiny", "-o", str(out), "--option", "steps=2", "--texture-size", "64",
               "--preview-resolution", "32", "--no-turntable", "--no-progress", "--device", "cpu"])
    assert rc == 0
    glb = out / "textured.glb"
    asset = load_asset(glb)
    assert asset.mesh.uv is not None and asset.mesh.materials[0].base_color_texture is not None
    assert asset.mesh.materials[0].base_color_texture.shape[:2] == (64, 64)
    record = json.loads((out / "record.json").read_text())
    text = json.dumps(record)
    assert "mvdiffusion" in text and '"standin": true' in text
