"""End to end: ``photo3d texture --model feedforward`` bakes the Gaussians into a GLB that renders like them."""

from __future__ import annotations

import json

import torch

from photo3d.assets import load_asset
from photo3d.cameras import rig_cameras
from photo3d.imaging.morphology import erode
from photo3d.paradigms.feedforward.texturer import build_texturer
from photo3d.render import render_views
from photo3d.gaussians import render_gaussians

OPTIONS = dict(depth=5, infer_points=20000)
MIN_PSNR_DB = 24.0  # mesh render of the baked GLB vs the Gaussian render, held-out rig views, interior pixels
# (measured 27.1 dB: per-voxel random colours, about 3 px per voxel at 128 px, are the hard case)


def _varied_tiny_texturer():
    """The tiny random texturer with 30x larger colour outputs: colours vary across the surface, so
    matching them is a real test of the bake (the untrained default is a flat grey); opacity and
    scale keep their half-voxel start."""
    from photo3d.paradigms.feedforward.model import RGB

    tex = build_texturer("tiny", "cpu", **OPTIONS)
    with torch.no_grad():
        tex.model.unet.conv.weights[..., RGB].mul_(30.0)  # [27, C_in, C_out]: the rgb output channels
    return tex


def test_baked_glb_renders_like_the_gaussians(mv_tiny, tmp_path):
    from photo3d.texture import TextureConfig, texture_mesh

    mesh = mv_tiny / "0" / "mesh.obj"  # the bundled sugar box at 3.8k faces
    tex = _varied_tiny_texturer()
    cfg = TextureConfig(texture_size=256, fit_steps=40, fit_views=8, fit_resolution=96, preview_resolution=64,
                        turntable=False, device="cpu", progress=False)
    texture_mesh(mesh, "a box of sugar", tmp_path / "out", "feedforward", "tiny", cfg, texturer=tex, log=None)
    glb = tmp_path / "out" / "textured.glb"
    assert glb.is_file()
    # the Photo3D rig (perspective, 39.6°) is not among the fit's views (Step1X-3D rig + random orbits)
    cams = rig_cameras(128)
    gauss = tex.texture(load_asset(mesh), "a box of sugar", None, cfg.seed)
    target = render_gaussians(gauss.gaussians, cams).rgb.clamp(0, 1)
    out = render_views(load_asset(glb), cams)
    inside = erode(out.alpha > 0.5, 2).expand_as(out.rgb)
    assert float(target[inside].std()) > 0.05  # not a flat colour: the comparison means something
    mse = (out.rgb - target)[inside].square().mean()
    psnr = float(10 * torch.log10(1 / mse))
    print(f"baked GLB vs Gaussian render on the Photo3D rig: {psnr:.2f} dB")
    assert psnr >= MIN_PSNR_DB, psnr


def test_photo3d_texture_feedforward_command(mv_tiny, tmp_path):
    from photo3d.cli import main

    out = tmp_path / "cli"
    rc = main(["texture", str(mv_tiny / "1" / "mesh.obj"), "--prompt", "a ceramic bunny", "--model", "feedforward",
               "--weights", "tiny", "-o", str(out), "--texture-size", "64", "--fit-steps", "2", "--fit-views", "1",
               "--fit-resolution", "48", "--preview-resolution", "32", "--no-turntable", "--device", "cpu",
               "--no-progress", "--option", "depth=5", "infer_points=4000"])
    assert rc == 0
    assert (out / "textured.glb").is_file() and (out / "grid.png").is_file()
    rec = json.loads((out / "record.json").read_text())
    tr = rec["texturer"]
    assert tr["name"] == "feedforward" and tr["standin"] is True and tr["is_paper_model"] is False
    assert tr["gaussians"] > 0 and "materials" in rec["bake"]  # the roughness/metallic map was fitted too
