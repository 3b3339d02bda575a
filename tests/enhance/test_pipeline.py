"""``enhance`` end to end on a tiny cube (64 px views, tiny random encoders, a few steps)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from photo3d.enhance import EnhanceConfig, enhance
from photo3d.enhance.pipeline import load_for_enhance, prepare, run_prepared
from photo3d.enhance.references import load_references
from photo3d.errors import AssetError, Photo3DError

OUTPUTS = ("enhanced.glb", "grid_before.png", "grid_after.png", "grid_reference.png", "grid_target.png",
           "turntable_before.png", "turntable_after.png", "turntable.gif", "texture_after.png", "record.json")


def _cfg(**kw) -> EnhanceConfig:
    # cube_grid shows the cube with another random texture, not a structure-keeping edit of this
    # one: the reference check (tests/reliability) would refuse some of its views
    base = dict(steps=3, resolution=64, encoders="tiny", n_crops=2, match_size=64, progress=False, seed=0,
                force=True)
    base.update(kw)
    return EnhanceConfig(**base)


def test_end_to_end_writes_every_output(tmp_path, cube_path, cube_grid):
    res = enhance(cube_path, cube_grid, tmp_path / "out", _cfg(), ground_truth=cube_path, log=None)
    for name in OUTPUTS:
        assert (tmp_path / "out" / name).is_file(), name
    rec = json.loads((tmp_path / "out" / "record.json").read_text())
    assert rec["steps_done"] == 3 and len(rec["losses"]) == 3 and rec["interrupted"] is False
    assert rec["encoders"]["standin"] is True and "tiny" in rec["encoders"]["adapt"]["name"]
    assert set(rec["heldout_metrics"]["before"]) >= {"psnr", "ssim", "hf_energy_ratio"}
    assert rec["heldout_metrics"]["before"]["psnr"] == float("inf")  # ground truth = the input
    assert res.textures[0].shape == (32, 48, 3)


def test_zero_steps_reproduce_the_original_texture(tmp_path, cube_path, cube_grid):
    from photo3d.assets import load_asset

    res = enhance(cube_path, cube_grid, tmp_path / "out", _cfg(steps=0, turntable=False), log=None)
    original = load_asset(cube_path).mesh.materials[0].base_color_texture
    assert np.array_equal(res.textures[0], original)
    exported = load_asset(tmp_path / "out" / "enhanced.glb").mesh.materials[0].base_color_texture
    assert np.array_equal(exported, original)


def test_unseen_texels_keep_their_values(tmp_path, cube_path, cube_grid):
    from photo3d.assets import load_asset

    res = enhance(cube_path, cube_grid, tmp_path / "out", _cfg(steps=4, lr=0.05, turntable=False,
                                                              recolour_unseen=False), log=None)
    original = load_asset(cube_path).mesh.materials[0].base_color_texture
    changed = np.abs(res.textures[0].astype(int) - original.astype(int)).max(axis=2) > 0
    assert changed.any()
    # the rig (pitch 0) never sees the cube's top and bottom: their atlas cells (glTF +-Y faces,
    # cells 2 and 3 of the 3x2 atlas) must be untouched, apart from the few texels of dilation
    # that the mask adds along the neighbouring seen cells
    top, bottom = changed[3:13, 35:45], changed[19:29, 3:13]
    assert not top.any() and not bottom.any()


def test_optimiser_decreases_the_loss_on_an_aligned_reference(tmp_path, cube_path, cube_grid):
    cfg = _cfg(steps=25, lr=0.02, views_per_step=0, anchor_weight=0.0, tone_match="none", loss="l2")
    refs = load_references(cube_grid, cfg.resolution)
    asset, _ = load_for_enhance(cube_path)
    prep = prepare(asset, refs, cfg, torch.device("cpu"))
    _, loop, _ = run_prepared(prep, cfg, None)
    first, last = loop.history[0]["loss"], loop.history[-1]["loss"]
    assert last < 0.7 * first


def test_real_loss_decreases_with_tiny_encoders(tmp_path, cube_path, cube_grid):
    cfg = _cfg(steps=12, lr=0.02, views_per_step=0, anchor_weight=0.0, tone_match="none", loss="real")
    refs = load_references(cube_grid, cfg.resolution)
    prep = prepare(load_for_enhance(cube_path)[0], refs, cfg, torch.device("cpu"))
    from photo3d.encoders import load_encoder

    encs = (load_encoder("tiny-clip"), load_encoder("tiny-dino"))
    _, loop, _ = run_prepared(prep, cfg, encs)
    losses = [h["loss"] for h in loop.history]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])


def test_ctrl_c_writes_nothing(tmp_path, cube_path, cube_grid):
    def interrupt(step, rec):
        if step == 1:
            raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        enhance(cube_path, cube_grid, out, _cfg(steps=5), on_step=interrupt, log=None)
    assert not out.exists() or not any(out.iterdir())


def test_asset_without_uvs_gets_an_atlas(tmp_path, bunny_path, cube_grid):
    pytest.importorskip("xatlas")
    # the cube grid does not show the bunny: nothing to register, only the atlas is under test
    res = enhance(bunny_path, cube_grid, tmp_path / "out", _cfg(steps=1, texture_size=64, turntable=False, registration="off"),
                  log=None)
    assert any("no UVs" in n for n in res.record["notes"])
    assert res.textures[0].shape[:2] == (64, 64)


def test_missing_asset_and_reference(tmp_path, cube_path, cube_grid):
    with pytest.raises(Photo3DError, match="not found|no such file"):
        enhance(tmp_path / "nope.glb", cube_grid, tmp_path / "o", _cfg(), log=None)
    with pytest.raises(Photo3DError, match="reference not found"):
        enhance(cube_path, tmp_path / "nope.png", tmp_path / "o", _cfg(), log=None)
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"not a glb")
    with pytest.raises(AssetError):
        enhance(bad, cube_grid, tmp_path / "o", _cfg(), log=None)


def test_record_does_not_import_the_pipeline():
    """The pipeline imports the record writer, never the other way round (no module cycle)."""
    import ast
    import inspect

    import photo3d.enhance.record as record

    imported = {n.module for n in ast.walk(ast.parse(inspect.getsource(record))) if isinstance(n, ast.ImportFrom)}
    assert "photo3d.enhance.pipeline" not in imported


def test_drift_tone_still_applies_when_no_view_registers(monkeypatch):
    """--force with references no view of which registers: the drift model is fitted on the
    unregistered pairs instead of being skipped."""
    import photo3d.enhance.pipeline as pipeline
    from photo3d.enhance.registration import Registration, ViewAlignment

    gen = torch.Generator().manual_seed(0)
    renders = torch.ones(2, 3, 32, 32)
    renders[:, :, 8:24, 8:24] = 0.3 + 0.4 * torch.rand(2, 3, 16, 16, generator=gen)
    refs = renders.clone()
    refs[0, :, 8:24, 8:24] *= torch.tensor([1.15, 1.0, 0.9])[:, None, None]  # view 0: warmer than view 1
    failed = [ViewAlignment(i, 0.1, 1.0, 0.5, 0.0, 0.0, status="dropped", reason="alignment failed") for i in (0, 1)]
    monkeypatch.setattr(pipeline, "register", lambda *a, **k: Registration(refs, torch.zeros(2, 1, 32, 32),
                                                                            torch.zeros(2, 2, 32, 32), failed))
    prep = pipeline.Prepared(None, None, None, {}, {}, {}, renders, refs.clone(), [], torch.device("cpu"),
                             alpha=(renders < 0.99).any(1, keepdim=True).float(), tone_after_registration=True)
    pipeline.update_registration(prep, renders, 0, None, force=True)
    assert not prep.registrations and "unregistered" in prep.notes[0]
    inside = (slice(None), slice(None), slice(8, 24), slice(8, 24))
    ratio = (prep.targets[inside] / renders[inside]).mean(dim=(2, 3))  # per view and channel
    before = (refs[inside] / renders[inside]).mean(dim=(2, 3))
    assert (ratio[0] - ratio[1]).abs().max() < 0.2 * (before[0] - before[1]).abs().max()
    assert prep.loss_targets is prep.targets
