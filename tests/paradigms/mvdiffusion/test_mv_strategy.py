"""The multi-view paradigm on the shared loop: step, drops, sampling, and L_real going down on mv_tiny."""

from __future__ import annotations

import pytest
import torch

from photo3d.paradigms import Paradigm
from photo3d.paradigms.mvdiffusion.rig import MODEL_FROM_GRID
from photo3d.paradigms.mvdiffusion.sampler import generate_views
from photo3d.train.config import TrainConfig
from photo3d.train.dataset import Photo3DMVDataset
from photo3d.train.loop import train
from photo3d.train.state import read_log


@pytest.fixture(scope="module")
def dataset(mv_tiny):
    return Photo3DMVDataset(mv_tiny, resolution=64)


def test_step_decodes_the_supervised_views_and_reaches_the_trainable_weights(dataset, make_strategy):
    par = make_strategy()
    assert isinstance(par, Paradigm)
    assert set(par.trainable_modules()) == {"mv_attention", "cond_encoder"}
    for mod in par.trainable_modules().values():
        mod.requires_grad_(True)
    views, aux = par.step([dataset[0], dataset[1]], par.init_state(0))
    assert views.shape == (8, 3, 64, 64) and aux["targets"].shape == (8, 3, 64, 64)
    assert 0.0 <= float(aux["t"]) <= 1.0
    prep = par.prepare(dataset[0])
    outside = ~prep.targets.silhouette.expand(-1, 3, -1, -1)
    assert torch.all(views[:4].detach()[outside] == 1.0) and torch.all(aux["targets"][:4][outside] == 1.0)
    inside = prep.targets.mask.expand(-1, 3, -1, -1)
    assert torch.allclose(aux["targets"][:4][inside], prep.targets.images[inside])
    (views - aux["targets"]).square().mean().backward()
    for name, mod in par.trainable_modules().items():
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in mod.parameters()), name
    assert all(p.grad is None for p in par.model.unet.conv_in.parameters())  # the base UNet is frozen
    assert par.cameras(dataset[0]).yaw_deg.tolist() == [0.0, 90.0, 180.0, 270.0]
    assert list(MODEL_FROM_GRID) == [2, 1, 0, 3]


def test_targets_are_the_edited_grid_seen_from_the_model_views(dataset, make_strategy):
    prep = make_strategy().prepare(dataset[0])
    edited = dataset[0]["target"]
    # the model's front view (grid view 2) has the colours of the edited front view where supervised
    tgt, mask = prep.targets.images[2], prep.targets.mask[2, 0]
    assert mask.float().mean() > 0.1
    fg = lambda im: im[:, (im < 0.95).any(0)].mean(1)  # noqa: E731
    assert torch.allclose(tgt[:, mask].mean(1), fg(edited[2]), atol=0.05)
    assert prep.control.shape == (6, 6, 64, 64) and prep.x0_mean.shape == (6, 4, 8, 8)


def test_same_state_seed_same_step_and_the_drop_rates(dataset, make_strategy):
    par = make_strategy(prompt_drop=0.3, image_drop=0.2, joint_drop=0.0)
    a, _ = par.step([dataset[0]], par.init_state(5))
    b, _ = par.step([dataset[0]], par.init_state(5))
    c, _ = par.step([dataset[0]], par.init_state(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    g = torch.Generator().manual_seed(0)
    draws = [par.draw(1, g) for _ in range(2000)]
    rate = lambda key: sum(float(d[key].float().mean()) for d in draws) / len(draws)  # noqa: E731
    assert abs(rate("drop_prompt") - 0.3) < 0.04 and abs(rate("drop_image") - 0.2) < 0.04
    joint = make_strategy(prompt_drop=0.0, image_drop=0.0, joint_drop=0.25)
    draws = [joint.draw(1, g) for _ in range(2000)]
    assert all(bool(d["drop_prompt"][0]) == bool(d["drop_image"][0]) for d in draws)  # together
    assert abs(rate("drop_prompt") - 0.25) < 0.04
    assert {d["reference"][0] for d in draws} == {0, 1, 2, 3}
    assert all(t <= 999 for d in draws for t in d["t"].tolist())


def test_sampling_is_seeded_and_gives_a_rig_grid(dataset, make_strategy):
    par = make_strategy()
    prep = par.prepare(dataset[0])
    a = generate_views(par.model, prep.control, "a box", steps=3, guidance=3.0, seed=1, progress=False)
    b = generate_views(par.model, prep.control, "a box", steps=3, guidance=3.0, seed=1, progress=False)
    c = generate_views(par.model, prep.control, "a box", steps=3, guidance=1.0, seed=1, progress=False)
    assert a.shape == (6, 3, 64, 64) and torch.equal(a, b) and not torch.equal(a, c)
    grid = par.sample_grid(dataset[0], 32, steps=2, cfg_scale=3.0, seed=0)
    assert grid.shape == (3, 64, 64) and float(grid.min()) >= 0 and float(grid.max()) <= 1
    assert (grid < 0.99).any() and (grid == 1.0).any()  # the object on white


def _held_out_l_real(par, sample, loss, draws: int = 6) -> list[float]:
    """L_real of the one-step estimate on fixed draws (timestep, noise, crops): same for every call."""
    state = par.init_state(1234)
    out = []
    with torch.no_grad():
        for _ in range(draws):
            views, aux = par.step([sample], state)
            comp = loss.components(views, aux["targets"], generator=torch.Generator().manual_seed(0))
            out.append(float(comp["loss"]))
    return out


def test_fine_tuning_lowers_l_real_on_mv_tiny(mv_tiny, tmp_path, make_loss, make_strategy):
    """The issue's check: a tiny-config run lowers L_real on the bundled set."""
    full = Photo3DMVDataset(mv_tiny, resolution=64)
    # a mid-range band of timesteps, no condition dropout: one object, a fixed task to fit
    par = make_strategy(t_min=0.4, t_max=0.6, prompt_drop=0.0, image_drop=0.0, joint_drop=0.0)
    loss = make_loss(resolution=64, n_crops=4)
    before = _held_out_l_real(par, full[0], loss)
    cfg = TrainConfig(data=str(mv_tiny), out=str(tmp_path / "run"), steps=40, resolution=64, lr=1e-2,
                      warmup_steps=10, grad_clip=0.0, ema_decay=0.9, preview_every=0, ckpt_every=1000,
                      final_samples=False)
    train(par, torch.utils.data.Subset(full, [0]), loss, cfg)
    after = _held_out_l_real(par, full[0], loss)
    mean = lambda x: sum(x) / len(x)  # noqa: E731
    print(f"held-out L_real before / after 40 steps: {mean(before):.4f} / {mean(after):.4f}")
    assert all(a < b for a, b in zip(after, before)), (before, after)  # lower on every fixed draw
    assert mean(after) < 0.93 * mean(before), (before, after)
    assert [r["step"] for r in read_log(tmp_path / "run" / "log.jsonl")][-1] == 40


class _Interrupt(Exception):
    pass


def test_kill_and_resume_reproduces_the_losses(mv_tiny, tmp_path, make_loss, make_strategy):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    kw = dict(data=str(mv_tiny), steps=4, resolution=32, lr=1e-3, ckpt_every=2, preview_every=0, final_samples=False)
    train(make_strategy(resolution=32), ds, make_loss(resolution=32), TrainConfig(out=str(tmp_path / "a"), **kw))

    def kill(step, rec):
        if step == 3:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(make_strategy(resolution=32), ds, make_loss(resolution=32), TrainConfig(out=str(tmp_path / "b"), **kw),
              on_step=kill)
    torch.manual_seed(7)  # a different initialisation: the trained weights must come from the checkpoint
    train(make_strategy(resolution=32), ds, make_loss(resolution=32),
          TrainConfig(out=str(tmp_path / "b"), resume="auto", **kw))
    a = [r["loss"] for r in read_log(tmp_path / "a" / "log.jsonl")]
    b = [r["loss"] for r in read_log(tmp_path / "b" / "log.jsonl")]
    assert len(set(a)) == 4 and b == pytest.approx(a, abs=1e-6)


def test_lora_option_trains_and_exports_in_diffusers_layout(dataset, make_strategy, tmp_path):
    pytest.importorskip("peft")
    par = make_strategy(lora_rank=2)
    lora = par.trainable_modules()["lora"]
    assert sum(p.numel() for p in lora.parameters()) > 0
    for mod in par.trainable_modules().values():
        mod.requires_grad_(True)
    views, aux = par.step([dataset[0]], par.init_state(0))
    (views - aux["targets"]).abs().mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in lora.parameters())
    files = par.export(tmp_path)
    from photo3d.paradigms.mvdiffusion.weights import read_safetensors

    keys = read_safetensors(files["lora"])
    assert files["lora"].name == "unet_lora.safetensors" and all(k.startswith("unet.") and ".lora_" in k for k in keys)
    assert files["adapter"].name == "step1x-3d-ig2v.safetensors"
    assert any("attn1.to_q.lora_A" in k for k in keys)
