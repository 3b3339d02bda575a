"""Tone matching of references to renders (one definition for the enhancer and the builder)."""

from __future__ import annotations

import pytest
import torch

from photo3d.errors import InputError
from photo3d.imaging import foreground_mask, match_tone


def _scene(seed: int, gain: float, offset: float, spread: float = 1.0):
    gen = torch.Generator().manual_seed(seed)
    img = torch.ones(2, 3, 32, 32)
    obj = (0.4 + 0.2 * spread * torch.rand(2, 3, 16, 16, generator=gen)) * gain + offset
    img[:, :, 8:24, 8:24] = obj
    return img


def _fg_stats(img):
    fg = img[:, :, 8:24, 8:24]
    return fg.mean(dim=(2, 3)), fg.std(dim=(2, 3))


@pytest.mark.parametrize("mode", ["mean", "meanstd", "histogram"])
def test_moves_reference_statistics_toward_render(mode):
    render = _scene(0, 1.0, 0.0)
    ref = _scene(1, 1.1, -0.15, spread=2.0)  # darker, more contrast
    out = match_tone(ref, render, mode=mode)
    m_r, s_r = _fg_stats(render)
    m_in, s_in = _fg_stats(ref)
    m_out, s_out = _fg_stats(out)
    assert (m_out - m_r).abs().max() < 0.5 * (m_in - m_r).abs().min()
    if mode != "mean":
        assert (s_out - s_r).abs().max() < 0.5 * (s_in - s_r).abs().min()
    else:  # mean matching keeps the reference's contrast
        assert torch.allclose(s_out, s_in, atol=1e-4)


def test_background_stays_white_and_none_is_identity():
    render = _scene(0, 1.0, 0.0)
    ref = _scene(1, 0.8, 0.0)
    out = match_tone(ref, render, mode="meanstd")
    assert torch.equal(out[:, :, :8], ref[:, :, :8])
    assert torch.equal(match_tone(ref, render, mode="none"), ref)


def test_foreground_mask_and_bad_mode():
    img = _scene(0, 1.0, 0.0)
    assert foreground_mask(img).sum() == 2 * 16 * 16
    with pytest.raises(InputError, match="bogus"):
        match_tone(img, img, mode="bogus")
    with pytest.raises(InputError, match="split_grid"):
        match_tone(img[0], img[0])  # a grid, not a batch of views


def test_strength_blends_and_masks_are_respected():
    render = _scene(0, 1.0, 0.0)
    ref = _scene(1, 1.1, -0.15)
    full = match_tone(ref, render, mode="meanstd")
    half = match_tone(ref, render, mode="meanstd", strength=0.5)
    inside = (slice(None), slice(None), slice(8, 24), slice(8, 24))
    torch.testing.assert_close(half[inside], (0.5 * ref + 0.5 * full)[inside], atol=1e-6, rtol=0)
    assert torch.equal(match_tone(ref, render, mode="meanstd", strength=0.0), ref)
    only_left = torch.zeros(2, 1, 32, 32, dtype=torch.bool)
    only_left[..., 8:24, 8:16] = True
    out = match_tone(ref, render, mode="mean", reference_mask=only_left)
    assert torch.equal(out[..., 16:24], ref[..., 16:24])  # outside the given mask: untouched
    assert not torch.equal(out[..., 8:16], ref[..., 8:16])


def test_consensus_removes_differences_between_views_and_keeps_the_common_change():
    render = _scene(0, 1.0, 0.0)
    ref = render.clone()
    fg = (slice(None), slice(None), slice(8, 24), slice(8, 24))
    ref[0][fg[1:]] = render[0][fg[1:]] * torch.tensor([1.2, 1.0, 0.9])[:, None, None]  # view 0: warmer
    ref[1][fg[1:]] = render[1][fg[1:]] * torch.tensor([0.9, 1.0, 1.1])[:, None, None]  # view 1: cooler
    out = match_tone(ref, render, mode="consensus")
    ratio = out[fg].mean(dim=(2, 3)) / render[fg].mean(dim=(2, 3))
    assert torch.allclose(ratio[0], ratio[1], atol=1e-3)  # the views now agree
    common = torch.tensor([(1.2 * 0.9) ** 0.5, 1.0, (0.9 * 1.1) ** 0.5])
    assert torch.allclose(ratio[0], common, atol=1e-3)  # and keep their common change
    assert torch.equal(out[:, :, :8], ref[:, :, :8])  # background untouched


def _drifted(views, gains, offsets, ramps):
    """``views`` with a known per-view white balance, offset and lighting ramp on the object."""
    from photo3d.imaging.resample import pixel_centres

    xy = pixel_centres(*views.shape[-2:]).permute(2, 0, 1)
    out = views.clone()
    fg = foreground_mask(views)
    for i, (g, o, r) in enumerate(zip(gains, offsets, ramps)):
        light = 1 + r[0] * xy[0] + r[1] * xy[1]
        recoloured = (views[i] * torch.tensor(g)[:, None, None] + torch.tensor(o)[:, None, None]) * light
        out[i] = torch.where(fg[i], recoloured, views[i])
    return out


def _textured_scene(n=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    img = torch.ones(n, 3, 48, 48)
    coarse = torch.rand(n, 3, 6, 6, generator=gen)
    img[:, :, 6:42, 6:42] = 0.2 + 0.6 * torch.nn.functional.interpolate(coarse, size=(36, 36), mode="bilinear")
    return img


def test_drift_removes_white_balance_exposure_and_lighting_ramps_between_views():
    from photo3d.imaging.tone import fit_view_drift

    render = _textured_scene()
    edit = 0.1 + 0.85 * render  # the edit's common change (more contrast), to be kept
    edit = torch.where(foreground_mask(render), edit, render)
    gains = [(1.05, 0.97, 1.0), (0.95, 1.02, 1.04), (1.0, 1.0, 0.94), (1.03, 1.05, 1.0)]
    offsets = [(0.01, -0.01, 0.0), (-0.02, 0.0, 0.01), (0.0, 0.02, -0.01), (0.01, 0.0, 0.0)]
    ramps = [(0.08, 0.0), (-0.05, 0.06), (0.0, -0.08), (0.04, 0.04)]
    ref = _drifted(edit, gains, offsets, ramps)
    fg = foreground_mask(render)
    drift = fit_view_drift(ref, render, fg.double())
    assert drift.ok.all()
    torch.testing.assert_close(drift.ramp.float(), torch.tensor(ramps), atol=5e-3, rtol=0)
    out = drift.remove(ref)
    # every view now differs from the common edit by the same colour map (the consensus) only
    inside = fg.expand(-1, 3, -1, -1)
    spread_before = (ref - edit)[inside].view(4, 3, -1).mean(-1).std(0).max()
    spread_after = (out - edit)[inside].view(4, 3, -1).mean(-1).std(0).max()
    assert spread_after < 0.1 * spread_before
    per_pixel = (out - edit).abs()[inside].view(4, -1).mean(-1)
    assert per_pixel.max() < 0.012 and (ref - edit).abs()[inside].view(4, -1).mean(-1).max() > 0.03
    # the edit's contrast is kept: the corrected views are not pulled back to the render
    assert (out - render).abs()[inside].mean() > 0.5 * (edit - render).abs()[inside].mean()
    assert torch.equal(out[~inside], ref[~inside])  # background untouched


def test_drift_mode_of_match_tone_and_views_it_cannot_fit():
    render = _textured_scene(n=2)
    ref = _drifted(render, [(1.1, 1.0, 0.9), (0.9, 1.0, 1.1)], [(0, 0, 0)] * 2, [(0.0, 0.0)] * 2)
    out = match_tone(ref, render, mode="drift")
    inside = foreground_mask(render).expand(-1, 3, -1, -1)
    ratio = lambda x: (x / render)[inside].view(2, 3, -1).mean(-1)  # noqa: E731  per view and channel
    assert (ratio(out)[0] - ratio(out)[1]).abs().max() < 0.1 * (ratio(ref)[0] - ratio(ref)[1]).abs().max()
    from photo3d.imaging.tone import fit_view_drift

    one = fit_view_drift(ref[:1], render[:1], torch.ones(1, 1, 48, 48, dtype=torch.float64))
    assert not one.ok.any() and torch.equal(one.remove(ref[:1]), ref[:1])  # no consensus from one view
    blank = fit_view_drift(ref, render, torch.zeros(2, 1, 48, 48))
    assert not blank.ok.any()
    with pytest.raises(InputError, match="paired"):
        fit_view_drift(ref, render[:, :, :40], torch.ones(2, 1, 48, 48))


def test_drift_fit_survives_a_clipped_channel():
    """A saturated yellow has its blue channel at 0 in the edit: the fit uses the other channels."""
    from photo3d.imaging.tone import fit_view_drift

    render = _textured_scene()
    fg = foreground_mask(render)
    render[:, 2:3] = torch.where(fg, torch.full_like(render[:, 2:3], 0.1), render[:, 2:3])
    edit = render.clone()
    edit[:, 2:3] = torch.where(fg, torch.zeros_like(render[:, 2:3]), render[:, 2:3])  # blue clipped at 0
    ramps = [(0.08, 0.0), (-0.05, 0.06), (0.0, -0.08), (0.04, 0.04)]
    ref = _drifted(edit, [(1.04, 0.97, 1.0)] * 4, [(0.0, 0.0, 0.0)] * 4, ramps).clamp(0, 1)
    drift = fit_view_drift(ref, render, fg.double())
    assert drift.ok.all()
    torch.testing.assert_close(drift.ramp.float(), torch.tensor(ramps), atol=0.01, rtol=0)
