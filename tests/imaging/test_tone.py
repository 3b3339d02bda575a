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
