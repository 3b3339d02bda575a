"""The training loop on the bundled tiny set: smoke run, exact resume, NaN skips, overfitting."""

from __future__ import annotations

import json

import pytest
import torch

from photo3d.train.config import TrainConfig
from photo3d.train.dataset import Photo3DMVDataset
from photo3d.train.loop import train
from photo3d.train.state import read_log


def _cfg(out, **kw) -> TrainConfig:
    base = dict(data="", out=str(out), steps=2, resolution=32, preview_every=1, ckpt_every=1,
                sample_steps=2, sample_cfg=1.0, lr=1e-3, ema_decay=0.9)
    base.update(kw)
    return TrainConfig(**base)


def test_two_step_smoke_run_writes_the_run_folder(mv_tiny, tmp_path, make_loss, make_paradigm):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    par = make_paradigm()
    before = [p.detach().clone() for p in par.model.flow.parameters()]
    res = train(par, ds, make_loss(), _cfg(tmp_path / "run"), record={"encoders": {"standin": True}})
    out = tmp_path / "run"
    log = read_log(out / "log.jsonl")
    assert [r["step"] for r in log] == [1, 2] and all(r["loss"] > 0 for r in log)
    assert {"adapt", "match", "grad_norm", "t"} <= set(log[0])
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["train"]["steps"] == 2 and cfg["encoders"]["standin"] is True
    ckpts = out / "checkpoints"
    assert (ckpts / "latest.safetensors").is_file() and (ckpts / "step_0000002.safetensors").is_file()
    assert len(list((out / "previews").glob("*.png"))) == 2
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == ["grid_0.png", "grid_1.png"]
    changed = any(not torch.equal(a, b) for a, b in zip(before, par.model.flow.parameters()))
    assert changed and len(res.records) == 2


class _Interrupt(Exception):
    pass


def test_kill_and_resume_reproduces_the_losses(mv_tiny, tmp_path, make_loss, make_paradigm):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    kw = dict(steps=4, ckpt_every=2, preview_every=0, final_samples=False, accum=2, warmup_steps=3)
    train(make_paradigm(train_decoder=True), ds, make_loss(), _cfg(tmp_path / "a", **kw))

    def kill(step, rec):
        if step == 3:  # after the step-2 checkpoint, before the end: as if the process died
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(make_paradigm(train_decoder=True), ds, make_loss(), _cfg(tmp_path / "b", **kw), on_step=kill)
    assert [r["step"] for r in read_log(tmp_path / "b" / "log.jsonl")] == [1, 2, 3]
    # a fresh process would rebuild everything from scratch; a different init proves the weights come
    # from the checkpoint
    torch.manual_seed(123)
    par = make_paradigm(train_decoder=True)
    train(par, ds, make_loss(), _cfg(tmp_path / "b", resume="auto", **kw))
    a = [r["loss"] for r in read_log(tmp_path / "a" / "log.jsonl")]
    b_log = read_log(tmp_path / "b" / "log.jsonl")
    assert [r["step"] for r in b_log] == [1, 2, 3, 4]
    assert [r["loss"] for r in b_log] == pytest.approx(a, abs=1e-6)
    assert len(set(a)) == 4  # the losses really differ from step to step


def test_non_finite_loss_skips_the_step(mv_tiny, tmp_path, make_loss, make_paradigm):
    ds = Photo3DMVDataset(mv_tiny, resolution=32)
    real = make_loss()
    calls = {"n": 0}

    class Flaky(torch.nn.Module):
        def forward(self, pred, target):
            calls["n"] += 1
            out = real(pred, target)
            return out * float("nan") if calls["n"] == 2 else out

    par = make_paradigm()
    snapshots = []
    with pytest.warns(UserWarning, match="step 2"):
        res = train(par, ds, Flaky(), _cfg(tmp_path / "r", steps=3, final_samples=False, preview_every=0),
                    on_step=lambda s, r: snapshots.append([p.detach().clone() for p in par.model.flow.parameters()]))
    log = read_log(tmp_path / "r" / "log.jsonl")
    assert res.skipped_steps == [2] and log[1].get("skipped") is True and "grad_norm" not in log[1]
    assert all(torch.equal(a, b) for a, b in zip(snapshots[0], snapshots[1]))  # step 2 changed nothing
    assert any(not torch.equal(a, b) for a, b in zip(snapshots[1], snapshots[2]))


def test_overfitting_one_sample_lowers_l_real(mv_tiny, tmp_path, make_loss, make_paradigm):
    ds = torch.utils.data.Subset(Photo3DMVDataset(mv_tiny, resolution=32), [0])
    # small t: x0_hat stays close to the asset's latent, so the decoder + flow can fit the edit
    par = make_paradigm(train_decoder=True, timesteps="uniform", t_max=0.05, cfg_dropout=0.0)
    cfg = _cfg(tmp_path / "o", steps=80, lr=3e-3, preview_every=0, ckpt_every=1000, final_samples=False,
               grad_clip=0.0)
    res = train(par, ds, make_loss(n_crops=4), cfg)
    losses = [r["loss"] for r in res.records]
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    print(f"L_real over the first / last 8 steps: {first:.4f} / {last:.4f}")
    assert last < 0.6 * first, (first, last)
