"""The coupled paradigm on TRELLIS's stage 2 (photo3d.trellis, tiny random weights): no trellis package."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from photo3d.paradigms.coupled import CoupledConfig, build_coupled
from photo3d.paradigms.coupled.strategy import CoupledStrategy
from photo3d.trellis.sampler import SamplerParams
from photo3d.train.dataset import Photo3DMVDataset


@pytest.fixture(scope="module")
def trellis_paradigm():
    torch.manual_seed(0)
    return build_coupled(CoupledConfig(generator="trellis", trellis_path="tiny", trellis_latent_steps=2, cfg_dropout=0.5))


def test_zero_condition_is_known_before_any_image(trellis_paradigm):
    model = trellis_paradigm.model
    assert model.condition(None).shape == (1, 1374, 32) and not model.condition(None).any()
    assert model.condition(torch.rand(3, 40, 40)).shape == (1, 1374, 32)


def test_dropped_first_condition_and_fp32_master_gradients(trellis_paradigm, mv_tiny):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    model = trellis_paradigm.model
    seen = []
    real = model.condition

    def spy(image):
        seen.append(image is None)
        return real(image)

    model.condition = spy
    try:
        state = trellis_paradigm.init_state(0)
        for _ in range(10):  # until the very first condition of a step is a dropped one
            seen.clear()
            views, aux = trellis_paradigm.step([ds[0]], state)
            if seen == [True]:
                break
        assert seen == [True]
    finally:
        model.condition = real
    assert views.shape == (4, 3, 32, 32) and aux["targets"].shape == (4, 3, 32, 32)
    (views - aux["targets"]).square().mean().backward()
    grads = [p.grad for p in model.flow.parameters() if p.grad is not None]
    assert grads and all(p.dtype == torch.float32 for p in model.flow.parameters())
    assert any(float(g.abs().sum()) > 0 for g in grads) and all(torch.isfinite(g).all() for g in grads)
    model.flow.zero_grad(set_to_none=True)


def test_latents_from_slat_files_and_from_meshes(trellis_paradigm, mv_tiny):
    model = trellis_paradigm.model
    feats, coords = torch.randn(30, 8), torch.randint(0, 16, (30, 3))
    x0, c = model.latent({"id": "s", "slat": {"feats": feats, "coords": coords}})
    torch.testing.assert_close(x0, (feats - model.mean) / model.std)
    sample = Photo3DMVDataset(mv_tiny, resolution=32)[1]
    a = model.latent(sample)
    assert a is model.latent(sample)  # sampled once, then cached
    assert a[1].min() >= 0 and a[1].max() < 16 and a[0].shape == (len(a[1]), 8)
    g = model.decode(*a)
    assert float(g.colors.detach().min()) >= 0.0  # clamped like the rasteriser


class _GuidanceSpy:
    """A CoupledModel double with TRELLIS sampler settings; counts conditional / unconditional calls."""

    def __init__(self):
        self.flow, self.decoder = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
        self.sampler = SamplerParams(4, 3.0, (0.5, 0.95), 1.0)
        self.calls = []

    def latent(self, sample):
        return torch.zeros(2, 8), torch.zeros(2, 3, dtype=torch.long)

    def condition(self, image):
        return None if image is None else torch.ones(1)

    def velocity(self, x_t, coords, t, cond):
        self.calls.append((round(t, 4), cond is None))
        return torch.full_like(x_t, 0.5 if cond is None else 2.0)

    def decode(self, x0, coords):
        from photo3d.gaussians import Gaussians

        self.x0 = x0
        return Gaussians.from_points(torch.zeros(1, 3), torch.full((1, 3), 0.5))


def test_sampling_uses_trellis_guidance_inside_its_interval():
    spy = _GuidanceSpy()
    CoupledStrategy(spy, CoupledConfig()).generate({"id": "x", "target": torch.rand(4, 3, 8, 8)}, steps=4, cfg_scale=3.0)
    assert [t for t, unc in spy.calls if unc] == [0.75, 0.5]  # t in [0.5, 0.95] only
    # x0 = noise - sum dt * v, v = (1 + 3) 2 - 3 0.5 = 6.5 at t = .75, .5 and 2 at t = 1, .25
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(2, 8, generator=gen)
    torch.testing.assert_close(spy.x0, noise - 0.25 * (2 + 6.5 + 6.5 + 2))


def test_train_cli_runs_a_few_steps_on_trellis(tmp_path, mv_tiny, capsys):
    from photo3d.cli import main

    out = tmp_path / "run"
    argv = ["train", "coupled", "--data", str(mv_tiny), "--out", str(out), "--encoders", "tiny", "--steps", "2",
            "--resolution", "32", "--generator", "trellis", "--trellis-path", "tiny", "--trellis-latent-steps", "2",
            "--sample-steps", "2", "--preview-every", "1"]
    assert main(argv) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and all(np.isfinite(r["loss"]) for r in log)
    assert not any(r.get("skipped") for r in log)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["generator"]["is_paper_model"] is False and cfg["generator"]["master_weights"] == "fp32"
    assert (out / "samples" / "grid_0.png").is_file() and "TRELLIS-image-large SLAT flow" in capsys.readouterr().out


@pytest.mark.gpu
def test_bf16_autocast_step_on_cuda_keeps_fp32_masters(mv_tiny):
    par = build_coupled(CoupledConfig(generator="trellis", trellis_path="tiny", trellis_latent_steps=2), "cuda")
    sample = Photo3DMVDataset(mv_tiny, resolution=32)[0]
    with torch.autocast("cuda", dtype=torch.bfloat16):
        views, aux = par.step([sample], par.init_state(0))
    (views.float() - aux["targets"].cuda()).square().mean().backward()
    assert all(p.dtype == torch.float32 and p.is_cuda for p in par.model.flow.parameters())
    assert all(torch.isfinite(p.grad).all() for p in par.model.flow.parameters() if p.grad is not None)
