"""Registration of edited views: known displacements are recovered, failing views are dropped."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("cv2")

from photo3d.enhance.registration import fold_mask, register, warp_views  # noqa: E402
from photo3d.enhance.warps import STRONG_DRIFT, drift_source, editor_drift  # noqa: E402

RES = 128


@pytest.fixture(scope="module")
def sugar_views(sugar_box_path):
    """Rig renders of the bundled sugar box at 128 px: original and "plastic" (degraded) texture."""
    import copy

    from photo3d.assets import load_asset
    from photo3d.cameras import rig_cameras
    from photo3d.enhance.degrade import plastic_degrade
    from photo3d.io import texture_to_tensor, to_uint8
    from photo3d.render import render_views

    asset = load_asset(sugar_box_path)
    plastic = copy.deepcopy(asset)
    mat = plastic.mesh.materials[0]
    mat.base_color_texture = to_uint8(plastic_degrade(texture_to_tensor(mat.base_color_texture)))
    with torch.no_grad():
        orig = render_views(asset, rig_cameras(RES), ssaa=2)
        deg = render_views(plastic, rig_cameras(RES))
    return orig.rgb, deg.rgb, deg.alpha > 0.5


def _shifted(views: torch.Tensor, dx: float, dy: float) -> torch.Tensor:
    """``out(x) = views(x - (dx, dy))``: the content moves by (+dx, +dy) pixels."""
    flow = torch.tensor([-dx, -dy]).view(1, 2, 1, 1).expand(len(views), 2, *views.shape[-2:])
    return warp_views(views, flow)


def test_known_subpixel_shift_is_recovered(sugar_views):
    orig, _, mask = sugar_views
    dx, dy = 2.3, -1.6
    reg = register(orig, _shifted(orig, dx, dy), mask)
    assert all(v.status == "ok" for v in reg.views)
    c = reg.confidence[:, 0]
    for axis, true in ((0, dx), (1, dy)):
        err = (reg.flow[:, axis] - true).abs()
        mean_err = float((err * c).sum() / c.sum())
        assert mean_err < 0.5, (axis, mean_err)
    # warping the shifted views back reproduces the originals where the alignment is trusted (up to
    # the blur of two bilinear resamplings)
    resid = lambda x: float(((x - orig).abs().mean(1) * c).sum() / c.sum())  # noqa: E731
    assert resid(reg.warped) < 0.5 * resid(_shifted(orig, dx, dy))


def test_editor_drift_is_undone_on_the_plastic_render(sugar_views):
    """Render of the degraded asset vs the strongly drifted original: the true source positions
    of the drift are known, so the registration error can be measured pixel by pixel."""
    orig, plastic, mask = sugar_views
    edited = editor_drift(orig, STRONG_DRIFT, seed=0)
    src = drift_source((len(orig), RES, RES), STRONG_DRIFT, seed=0) - 0.5  # pixel-index convention
    reg = register(plastic, edited, mask)
    at = warp_views(src, reg.flow, background=0.0)  # where each render pixel's match came from
    ys, xs = torch.meshgrid(torch.arange(RES).float(), torch.arange(RES).float(), indexing="ij")
    err = ((at[:, 0] - xs).square() + (at[:, 1] - ys).square()).sqrt()
    before = ((src[:, 0] - xs).square() + (src[:, 1] - ys).square()).sqrt()
    c = reg.confidence[:, 0]
    for i in range(len(orig)):
        m = mask[i, 0]
        assert float(err[i][m].median()) < 0.5 < float(before[i][m].median())
        assert float((err[i] * c[i]).sum() / c[i].sum()) < 0.5
        assert reg.views[i].status == "ok" and reg.views[i].residual < reg.views[i].residual_unregistered


def test_colour_drift_between_registered_views_is_removed(sugar_views):
    """The strong editor's per-view white balance, exposure and lighting ramp, fitted on the
    registered pairs (degraded render vs drifted original) and removed: the views agree in colour
    with each other again (what is left is their common change, which the drift model keeps)."""
    from photo3d.imaging.tone import fit_view_drift

    orig, plastic, mask = sugar_views
    edited = editor_drift(orig, STRONG_DRIFT, seed=0)
    reg = register(plastic, edited, mask)
    weight = reg.confidence.double()
    drift = fit_view_drift(reg.warped, plastic, weight)
    assert drift.ok.all()
    fixed = drift.remove(reg.warped)

    def spread(views):  # per view and channel, mean colour ratio to the original; spread over views
        c = (reg.confidence > 0.5).expand(-1, 3, -1, -1)
        ratio = torch.stack([(views[i][c[i]] / orig[i][c[i]].clamp_min(0.05)).view(3, -1).mean(1)
                             for i in range(len(orig))])
        return float(ratio.std(0).max())

    assert spread(fixed) < 0.6 * spread(reg.warped)  # measured: 0.035 vs 0.076


def test_a_mirrored_edit_is_flagged_and_dropped(sugar_views):
    orig, plastic, mask = sugar_views
    edited = editor_drift(orig, seed=1)
    edited[2] = edited[2].flip(-1)  # the editor mirrored the front view
    reg = register(plastic, edited, mask)
    status = [v.status for v in reg.views]
    assert status == ["ok", "ok", "dropped", "ok"]
    assert "mirrored" in reg.views[2].reason
    assert reg.kept.tolist() == [1.0, 1.0, 0.0, 1.0]
    assert float(reg.confidence[2].abs().max()) == 0.0
    assert any("view 2 dropped" in m for m in reg.messages())


def test_unrelated_reference_fails_every_view(sugar_views):
    orig, plastic, mask = sugar_views
    unrelated = orig.roll(1, dims=0)  # each view compared with another side of the box
    reg = register(plastic, unrelated, mask, check_mirror=False)
    assert all(v.status == "dropped" for v in reg.views)


def test_fold_mask():
    h = w = 16
    smooth = np.zeros((h, w, 2), np.float32)
    smooth[..., 0] = np.linspace(0, 3, w)[None, :]  # a gentle stretch never folds
    assert not fold_mask(smooth).any()
    mirror = np.zeros((h, w, 2), np.float32)
    mirror[..., 0] = (w - 1 - 2 * np.arange(w))[None, :]  # x -> w - 1 - x: a horizontal flip
    assert fold_mask(mirror).all()


def test_warp_views_identity_and_background():
    img = torch.rand(2, 3, 8, 8)
    assert torch.allclose(warp_views(img, torch.zeros(2, 2, 8, 8)), img, atol=1e-6)
    out = warp_views(img, torch.full((2, 2, 8, 8), 100.0))
    assert torch.allclose(out, torch.ones_like(out))


def test_a_warp_at_the_noise_floor_keeps_the_view():
    """A textureless view (a bell pepper) whose warp does not lower a residual already at the
    noise floor is kept; above the floor, a warp that does not help drops the view."""
    from photo3d.enhance.registration import RESIDUAL_FLOOR, ViewAlignment, _verdict

    flat = ViewAlignment(3, confidence=0.95, residual=0.063, residual_unregistered=0.058, fold_fraction=0.017,
                         flow_px=1.3, mirrored_confidence=0.07, flow_confidence=0.43)
    assert flat.residual_unregistered < RESIDUAL_FLOOR and _verdict(flat) == ("ok", "")
    textured = ViewAlignment(0, confidence=0.9, residual=0.31, residual_unregistered=0.30, fold_fraction=0.01,
                             flow_px=2.0, mirrored_confidence=0.1, flow_confidence=0.6)
    status, reason = _verdict(textured)
    assert status == "dropped" and "does not improve" in reason
