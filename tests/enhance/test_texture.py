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


def _plane(n: int = 9, uv_lo: float = 0.1, uv_hi: float = 0.6):
    """A flat n x n vertex grid whose UVs cover [uv_lo, uv_hi]^2 of the atlas (the rest is unused)."""
    import numpy as np

    from photo3d.assets.mesh import Mesh

    t = np.linspace(0, 1, n)
    gx, gy = np.meshgrid(t, t)
    verts = np.stack([gx.ravel(), gy.ravel(), np.zeros(n * n)], 1) - [0.5, 0.5, 0]
    uv = uv_lo + (uv_hi - uv_lo) * np.stack([gx.ravel(), gy.ravel()], 1)
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    faces = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
    return Mesh(verts, faces, uv=uv)


def test_diffuse_change_continues_the_seen_change_into_unseen_texels():
    from photo3d.bake.texels import texel_surface
    from photo3d.enhance.texture import diffuse_change

    mesh, size = _plane(), 64
    covered = torch.as_tensor(texel_surface(mesh, size).covered)
    keep = torch.full((3, size, size), 0.3)
    seen = torch.zeros(size, size, dtype=torch.bool)
    seen[:, : size // 3] = True  # the left part of the chart is seen
    seen &= covered
    optimised = keep + 0.2 * seen  # the optimisation brightened what it saw
    out = diffuse_change(optimised, keep, seen.float(), mesh, 0)
    unseen_chart = covered & ~seen
    assert unseen_chart.sum() > 100
    # no edge where seen meets unseen: the unseen part of the chart carries the same change
    torch.testing.assert_close(out[:, unseen_chart], torch.full_like(out[:, unseen_chart], 0.5), atol=0.02, rtol=0)
    assert torch.equal(out[:, seen], optimised[:, seen])  # seen texels as optimised
    far = torch.zeros(size, size, dtype=torch.bool)
    far[50:, 50:] = True  # unused atlas space far from the chart is left alone
    assert torch.equal(out[:, far], keep[:, far])
    gutter = (~covered) & torch.roll(covered, 1, dims=1) & ~seen  # just right of the chart
    assert gutter.any() and torch.allclose(out[:, gutter], torch.full_like(out[:, gutter], 0.5), atol=0.02)
    # nothing seen: the plain blend
    assert torch.equal(diffuse_change(optimised, keep, torch.zeros(size, size), mesh, 0), keep)


def test_diffuse_change_keeps_a_margin_of_the_seen_border_out_of_the_known_data():
    from photo3d.bake.texels import texel_surface
    from photo3d.enhance.texture import diffuse_change

    mesh, size = _plane(), 64
    covered = torch.as_tensor(texel_surface(mesh, size).covered)
    keep = torch.full((3, size, size), 0.3)
    seen = torch.zeros(size, size, dtype=torch.bool)
    seen[:, :30] = True
    seen &= covered
    optimised = keep + 0.2 * seen
    optimised[:, :, 27:30] = 0.3  # the seen border barely moved (the mask's dilation)
    out = diffuse_change(optimised, keep, seen.float(), mesh, 0, margin=3)
    band = covered[:, 27:30]
    assert torch.allclose(out[:, :, 27:30][:, band], torch.full_like(out[:, :, 27:30][:, band], 0.5), atol=0.03)


def test_seam_band_heals_a_chart_border_the_gutter_bled_into():
    """A generator's texture blurred across its chart borders: the black gutter darkened the rim. The
    band is refilled from the chart's interior, so no dark line runs along the UV seam; a clean
    atlas (a rim no darker than its continuation) is left as optimised."""
    from photo3d.bake.texels import texel_surface
    from photo3d.enhance.texture import diffuse_change, gutter_bleeding
    from photo3d.imaging.morphology import erode

    mesh, size = _plane(uv_lo=0.05, uv_hi=0.95), 64
    covered = torch.as_tensor(texel_surface(mesh, size).covered)
    interior = erode(covered[None, None], 2)[0, 0]
    border = covered & ~interior
    keep = torch.zeros(3, size, size)  # black gutter
    keep[:, covered] = 0.6
    keep[:, border] = 0.3  # the rim, half-way to the gutter's black
    assert gutter_bleeding(keep, torch.where(covered, 0.6, keep), covered, interior) == pytest.approx(0.5)
    optimised = keep.clone()
    optimised[:, interior] += 0.1  # the optimisation brightened the interior, not the rim
    seen = covered.float()
    plain = diffuse_change(optimised, keep, seen, mesh, 0)
    assert torch.allclose(plain[:, border], torch.full_like(plain[:, border], 0.3))  # no band: the rim stays
    healed = diffuse_change(optimised, keep, seen, mesh, 0, seam_band=2)
    assert torch.allclose(healed[:, border], torch.full_like(healed[:, border], 0.7), atol=0.02)
    inner = erode(covered[None, None], 3)[0, 0]
    assert torch.equal(healed[:, inner], optimised[:, inner])
    clean = torch.where(covered, 0.6, keep)  # no bleeding: the band is trusted as optimised
    assert gutter_bleeding(clean, clean, covered, interior) == 0.0
    opt_clean = clean + 0.1 * covered
    assert torch.equal(diffuse_change(opt_clean, clean, seen, mesh, 0, seam_band=2)[:, covered], opt_clean[:, covered])
