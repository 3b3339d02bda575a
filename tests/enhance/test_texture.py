"""The Laplacian texture parameterisation and the seen/unseen blend."""

from __future__ import annotations

import pytest
import torch

from photo3d.enhance.texture import LaplacianTexture, blend_seen


def test_step0_reproduces_original_exactly():
    orig = torch.rand(3, 40, 24)
    tex = LaplacianTexture(orig, levels=4)
    assert torch.equal(tex(), orig)


def test_alpha_channel_is_kept_and_not_optimised():
    orig = torch.rand(4, 16, 16)
    tex = LaplacianTexture(orig, levels=3)
    with torch.no_grad():
        for d in tex.deltas:
            d.add_(0.3)
    out = tex()
    assert torch.equal(out[3], orig[3])
    assert not torch.equal(out[:3], orig[:3])


def test_levels_are_capped_for_small_textures():
    tex = LaplacianTexture(torch.rand(3, 8, 8), levels=10)
    assert tex.levels == 2  # 8 and 4 texels; no level below 4
    assert [tuple(d.shape[-2:]) for d in tex.deltas] == [(8, 8), (4, 4)]


def test_coarse_level_changes_a_whole_region():
    tex = LaplacianTexture(torch.full((3, 32, 32), 0.5), levels=4)
    with torch.no_grad():
        tex.deltas[-1][0, :, 0, 0] = 0.2  # one coarse texel (8x8 area at full size)
    diff = (tex() - 0.5).abs().sum(0)
    assert (diff > 0).sum() > 16  # spreads beyond one texel
    assert diff[-1, -1] == 0  # but not across the whole texture


def test_gradients_reach_every_level():
    tex = LaplacianTexture(torch.full((3, 16, 16), 0.5), levels=3)
    tex().sum().backward()
    assert all(d.grad is not None and d.grad.abs().sum() > 0 for d in tex.deltas)


def test_output_is_clamped_to_unit_range():
    tex = LaplacianTexture(torch.full((3, 8, 8), 0.9), levels=1)
    with torch.no_grad():
        tex.deltas[0].add_(0.5)
    assert tex().max() <= 1.0


def test_rejects_bad_shape():
    with pytest.raises(ValueError):
        LaplacianTexture(torch.rand(2, 8, 8))


def test_blend_seen_keeps_unseen_texels():
    orig, opt = torch.zeros(3, 4, 4), torch.ones(3, 4, 4)
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[:2] = True
    out = blend_seen(opt, orig, mask)
    assert torch.equal(out[:, :2], opt[:, :2])
    assert torch.equal(out[:, 2:], orig[:, 2:])


def test_band_limited_pyramid_starts_coarser_and_still_reproduces_original():
    from photo3d.enhance.texture import finest_level

    assert finest_level(0.5) == 0 and finest_level(1.0) == 0 and finest_level(1.5) == 1 and finest_level(4.2) == 3
    orig = torch.rand(3, 64, 64)
    tex = LaplacianTexture(orig, levels=3, finest=2)
    assert [tuple(d.shape[-2:]) for d in tex.deltas] == [(16, 16), (8, 8), (4, 4)]
    assert torch.equal(tex(), orig)


def test_grey_levels_change_luminance_only():
    from photo3d.eval.metrics.detail import chroma

    orig = torch.rand(3, 32, 32)
    tex = LaplacianTexture(orig, levels=3, grey_levels=2)
    assert [d.shape[1] for d in tex.deltas] == [1, 1, 3]
    with torch.no_grad():
        tex.deltas[0].normal_(0, 0.05)
        tex.deltas[1].normal_(0, 0.05)
    out = tex()
    inside = ((out > 0) & (out < 1)).all(0)  # texels the clamp did not touch
    assert not torch.allclose(out, orig)
    assert torch.allclose(chroma(out[None])[0][:, inside], chroma(orig[None])[0][:, inside], atol=1e-5)


def test_recolour_unseen_carries_the_seen_colour_change():
    from photo3d.enhance.texture import recolour_unseen

    orig = torch.rand(3, 16, 16) * 0.5 + 0.2
    mask = torch.zeros(16, 16, dtype=torch.bool)
    mask[:, :8] = True
    gain, offset = torch.tensor([1.5, 0.8, 1.0])[:, None, None], torch.tensor([0.05, 0.1, -0.1])[:, None, None]
    optimised = orig * gain + offset
    out = recolour_unseen(optimised, orig, mask)
    assert torch.allclose(out, (orig * gain + offset).clamp(0, 1), atol=1e-5)  # unseen half included
    assert torch.equal(recolour_unseen(optimised, orig, torch.zeros(16, 16)), orig)  # nothing seen: unchanged
