"""The feed-forward strategy on the shared loop: step, seeds, fine-tuning lowers L_real, the CLI."""

from __future__ import annotations

import json

import pytest
import torch

from photo3d.paradigms import Paradigm
from photo3d.paradigms.feedforward import FeedForwardConfig, build_feedforward
from photo3d.gaussians import render_gaussians
from photo3d.train.config import TrainConfig
from photo3d.train.dataset import Photo3DMVDataset
from photo3d.train.loop import train
from photo3d.train.state import read_log


def test_step_renders_the_rig_and_trains_the_whole_unet(mv_tiny, tiny_cfg):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    par = build_feedforward(tiny_cfg())
    assert isinstance(par, Paradigm) and set(par.trainable_modules()) == {"unet"}
    assert par.description["is_paper_model"] is False and "untrained" in par.description["note"]
    views, aux = par.step([ds[0], ds[1]], par.init_state(0))
    assert views.shape == (8, 3, 32, 32) and aux["targets"].shape == (8, 3, 32, 32) and aux["gaussians"] > 100
    assert (views < 0.9).float().mean() > 0.05  # the object covers the views (closed grey surface)
    (views - aux["targets"]).square().mean().backward()
    grads = [p.grad for p in par.model.unet.parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0


def test_the_run_state_seeds_the_points(mv_tiny, tiny_cfg):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    par = build_feedforward(tiny_cfg())
    a, _ = par.step([ds[0]], par.init_state(5))
    b, _ = par.step([ds[0]], par.init_state(5))
    c, _ = par.step([ds[0]], par.init_state(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def _real_loss_of_generated(par, ds, loss_fn) -> float:
    """L_real of one inference pass per sample vs its edited views (fixed points and crops)."""
    total = 0.0
    for i in range(len(ds)):
        s = ds[i]
        g, _ = par.generate(s, seed=0)
        views = render_gaussians(g, s["cameras"]).rgb.clamp(0, 1)
        total += float(loss_fn.components(views, s["target"], generator=torch.Generator().manual_seed(0))["loss"])
    return total / len(ds)


def test_fine_tuning_the_tiny_model_lowers_l_real_on_mv_tiny(mv_tiny, tmp_path, tiny_cfg, make_loss):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    torch.manual_seed(0)
    par = build_feedforward(tiny_cfg(checkpointing=False))
    loss = make_loss(n_crops=4)
    before = _real_loss_of_generated(par, ds, loss)
    cfg = TrainConfig(data="", out=str(tmp_path / "run"), steps=10, batch_size=2, resolution=32, lr=5e-3,
                      lr_schedule="onecycle", warmup_steps=3, adam_betas=(0.9, 0.95), ema_decay=0.999,
                      preview_every=0, ckpt_every=1000, final_samples=False)
    res = train(par, ds, loss, cfg)
    after = _real_loss_of_generated(par, ds, loss)
    logged = [r["loss"] for r in res.records]
    print(f"L_real of the generated textures before / after 10 steps: {before:.4f} / {after:.4f}; "
          f"training loss {logged[0]:.4f} -> {logged[-1]:.4f}")
    assert after < 0.6 * before, (before, after)
    assert sum(logged[-4:]) / 4 < 0.6 * sum(logged[:4]) / 4


def test_photo3d_train_feedforward_command(mv_tiny, tmp_path, capsys):
    from photo3d.cli import main

    out = tmp_path / "cli"
    rc = main(["train", "feedforward", "--data", str(mv_tiny), "--out", str(out), "--model", "tiny",
               "--encoders", "tiny", "--depth", "5", "--train-points", "4000", "--infer-points", "4000",
               "--steps", "2", "--resolution", "32", "--batch-size", "1", "--accum", "1", "--n-crops", "2",
               "--min-crop", "16", "--preview-every", "1"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "TexGaussian octree U-Net (tiny" in text and "random weights (untrained)" in text
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["paradigm"] == "feedforward" and cfg["generator"]["is_paper_model"] is False
    # the released recipe is the default of every option not given on the command line
    assert cfg["train"]["lr_schedule"] == "onecycle" and cfg["train"]["adam_betas"] == [0.9, 0.95]
    assert cfg["train"]["ema_decay"] == 0.999 and cfg["train"]["warmup_steps"] == 10
    assert cfg["loss"]["lambda_adapt"] == 0.5 and cfg["loss"]["match_rule"] == "greedy"
    assert [r["step"] for r in read_log(out / "log.jsonl")] == [1, 2]
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == ["grid_0.png", "grid_1.png"]
    # the fine-tune in TexGaussian's layout (model.* + ema_model.*) loads key for key
    from photo3d.paradigms.feedforward.checkpoint import load_unet_weights, read_state_dict
    from photo3d.paradigms.feedforward.unet import OctreeUNet

    exported = out / "texgaussian_unet.safetensors"
    assert f"exported unet: {exported}" in text
    keys = read_state_dict(exported)
    assert {k.split(".", 1)[0] for k in keys} == {"model", "ema_model"}
    net = OctreeUNet(FeedForwardConfig(model="tiny", depth=5).architecture)
    report = load_unet_weights(net, exported)
    assert report.source == "ema_model.*" and report.unmatched == [] and report.ignored
    run = read_state_dict(out / "checkpoints" / "latest.safetensors")["ema"]["shadow"]
    assert torch.equal(net.conv.bias, run["unet.conv.bias"])


@pytest.mark.gpu
def test_cuda_step_matches_cpu_and_runs_under_bf16(mv_tiny, tiny_cfg):
    # ocnn's Triton convolution and gsplat on CUDA vs block-GEMM convolution and the torch
    # rasteriser on the CPU, same weights and points
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    torch.manual_seed(0)
    cpu = build_feedforward(tiny_cfg(checkpointing=False))
    gpu = build_feedforward(tiny_cfg(checkpointing=False), device="cuda")
    gpu.model.unet.load_state_dict(cpu.model.unet.state_dict())
    a, _ = cpu.step([ds[0]], cpu.init_state(1))
    b, _ = gpu.step([ds[0]], gpu.init_state(1))
    assert (a - b.cpu()).abs().mean() < 2e-2
    with torch.autocast("cuda", dtype=torch.bfloat16):
        c, aux = gpu.step([ds[0]], gpu.init_state(1))
    (c.float() - aux["targets"]).square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in gpu.model.unet.parameters() if p.grad is not None)
