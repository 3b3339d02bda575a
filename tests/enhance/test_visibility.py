"""Texel visibility splatting."""

from __future__ import annotations

import torch

from photo3d.enhance.visibility import texel_visibility


def _uv_views(u0, u1, v0, v1, h=16, w=16):
    """One view whose foreground (the whole image) samples uv in [u0, u1] x [v0, v1]."""
    v, u = torch.meshgrid(torch.linspace(v0, v1, h), torch.linspace(u0, u1, w), indexing="ij")
    return torch.stack([u, v])[None]


def test_marks_seen_region_and_closes_gaps_between_samples():
    uv = _uv_views(0.0, 0.49, 0.0, 0.49)  # 16 samples over 32 texels: 2-texel gaps
    mat = torch.zeros(1, 16, 16, dtype=torch.long)
    mask = texel_visibility(uv, mat, {0: (64, 64)}, dilation=0)[0]
    assert mask[:31, :31].all()  # no holes inside the seen square
    assert not mask[40:].any() and not mask[:, 40:].any()  # far away stays unseen


def test_background_and_other_materials_are_ignored():
    uv = _uv_views(0.0, 0.49, 0.0, 0.49)
    mat = torch.full((1, 16, 16), -1, dtype=torch.long)
    mat[:, :, :8] = 1
    masks = texel_visibility(uv, mat, {0: (32, 32), 1: (32, 32)}, dilation=0)
    assert not masks[0].any()
    assert masks[1].any()


def test_dilation_grows_the_mask():
    uv = _uv_views(0.2, 0.3, 0.2, 0.3, 4, 4)
    mat = torch.zeros(1, 4, 4, dtype=torch.long)
    small = texel_visibility(uv, mat, {0: (64, 64)}, dilation=0)[0]
    big = texel_visibility(uv, mat, {0: (64, 64)}, dilation=3)[0]
    assert big.sum() > small.sum() and (big | small).sum() == big.sum()
