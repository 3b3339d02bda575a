"""CUDA paths of the multi-view paradigm: a bf16 base with float32 trained parts (skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch

from photo3d.train.dataset import Photo3DMVDataset


@pytest.mark.gpu
def test_mixed_precision_step_and_sampling_on_cuda(mv_tiny):
    from photo3d.encoders import load_encoder
    from photo3d.losses import RealLoss, RealLossConfig
    from photo3d.paradigms.mvdiffusion import MVDiffusionConfig
    from photo3d.paradigms.mvdiffusion.model import tiny_model
    from photo3d.paradigms.mvdiffusion.strategy import MVDiffusionStrategy

    model = tiny_model().to("cuda", torch.bfloat16)  # as build_mvdiffusion does for real weights on CUDA
    model.adapter.float()
    model.mv_attention().float()
    par = MVDiffusionStrategy(model, MVDiffusionConfig(), 64)
    for m in par.trainable_modules().values():
        m.requires_grad_(True)
    ds = Photo3DMVDataset(mv_tiny, resolution=64)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        views, aux = par.step([ds[0]], par.init_state(0))
    loss = RealLoss.from_config(RealLossConfig(n_crops=2, min_crop=16, match_size=64),
                                load_encoder("tiny-clip", "cuda"), load_encoder("tiny-dino", "cuda"))
    loss(views.float(), aux["targets"].float()).backward()
    grads = [p.grad for p in par.trainable_modules()["mv_attention"].parameters() if p.grad is not None]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    grid = par.sample_grid(ds[0], 32, steps=2, cfg_scale=3.0, seed=0)  # outside autocast, as the loop calls it
    assert grid.shape == (3, 64, 64) and torch.isfinite(grid).all()
