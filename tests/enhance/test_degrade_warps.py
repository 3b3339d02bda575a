"""The demo's degradation and editor drift."""

from __future__ import annotations

import torch

from photo3d.enhance.degrade import PlasticDegradation, plastic_degrade
from photo3d.enhance.warps import EditorDrift, editor_drift
from photo3d.eval.metrics.detail import high_pass


def test_plastic_degrade_removes_detail_and_colour():
    tex = torch.rand(3, 64, 64)
    out = plastic_degrade(tex, PlasticDegradation(blur_sigma=16.0))  # 1 texel at 64 px
    assert out.shape == tex.shape and out.min() >= 0 and out.max() <= 1
    assert high_pass(out[None]).square().mean() < 0.3 * high_pass(tex[None]).square().mean()
    sat = lambda x: (x.max(0).values - x.min(0).values).mean()  # noqa: E731
    assert sat(out) < sat(tex)


def test_plastic_degrade_keeps_alpha():
    tex = torch.rand(4, 32, 32)
    assert torch.equal(plastic_degrade(tex)[3], tex[3])


def test_editor_drift_is_deterministic_small_and_keeps_background(textured_views):
    views = textured_views()
    a = editor_drift(views, seed=3)
    b = editor_drift(views, seed=3)
    c = editor_drift(views, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a, views)
    assert (a[:, :, :4, :4] == 1.0).all()  # far corners stay white
    fg_in = (views < 0.98).any(1).float().mean()
    fg_out = (a < 0.98).any(1).float().mean()
    assert abs(float(fg_in - fg_out)) < 0.05  # the object stays where it was, roughly


def test_editor_drift_without_drift_is_identity(textured_views):
    views = textured_views()
    still = EditorDrift(max_displacement=0, rotation_deg=0, scale=0, shift=0, gain=0, offset=0)
    assert torch.allclose(editor_drift(views, still), views, atol=1e-5)
