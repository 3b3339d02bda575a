"""Image primitives: the foreground rule, morphology, luminance, filters, resizing."""

from __future__ import annotations

import pytest
import torch

from photo3d.imaging import (
    LUMA_REC709,
    SILHOUETTE_WHITE_TOLERANCE,
    WHITE_TOLERANCE,
    binomial_blur,
    closing,
    dilate,
    erode,
    foreground_mask,
    gaussian_blur,
    laplacian,
    luminance,
    opening,
    resize,
    saturate,
    sobel,
)


def test_white_tolerance_is_a_distance_from_white():
    levels = torch.arange(256, dtype=torch.float32) / 255
    img = levels.view(1, 1, 1, 256).expand(1, 3, 1, 256)
    fg = foreground_mask(img)[0, 0, 0]
    assert fg[:250].all() and not fg[250:].any()  # the released rule: any channel below 250/255
    fg = foreground_mask(img, SILHOUETTE_WHITE_TOLERANCE)[0, 0, 0]
    assert int(fg.sum()) == int((levels < 0.94).sum())
    assert WHITE_TOLERANCE == pytest.approx(5 / 255)


def test_one_dark_channel_makes_foreground_and_alpha_overrides():
    img = torch.ones(1, 3, 2, 2)
    img[0, 2, 0, 0] = 0.5  # only blue is dark
    assert foreground_mask(img)[0, 0].tolist() == [[True, False], [False, False]]
    alpha = torch.zeros(1, 1, 2, 2)
    alpha[..., 1, 1] = 0.9
    assert foreground_mask(img, alpha=alpha)[0, 0].tolist() == [[False, False], [False, True]]


def test_cleanup_removes_specks_and_fills_holes():
    img = torch.ones(1, 3, 32, 32)
    img[..., 8:24, 8:24] = 0.2
    img[..., 15, 15] = 1.0  # pin-hole
    img[..., 2, 2] = 0.0  # speck
    raw = foreground_mask(img)
    clean = foreground_mask(img, cleanup=1)
    assert raw[0, 0, 2, 2] and not raw[0, 0, 15, 15]
    assert not clean[0, 0, 2, 2] and clean[0, 0, 15, 15]
    assert int(clean.sum()) == 16 * 16


def test_morphology_on_bool_and_float_masks():
    m = torch.zeros(1, 1, 9, 9, dtype=torch.bool)
    m[..., 4, 4] = True
    assert int(dilate(m, 1).sum()) == 9 and dilate(m, 1).dtype == torch.bool
    assert int(erode(dilate(m, 1), 1).sum()) == 1
    assert not opening(m, 1).any() and closing(m, 1).sum() == 1
    full = torch.ones(1, 1, 5, 5)
    assert torch.equal(erode(full, 2), full)  # the image border does not erode
    assert dilate(m, 0) is m


def test_luminance_is_rec709_and_saturate_interpolates():
    img = torch.rand(2, 3, 4, 4)
    w = torch.tensor(LUMA_REC709).view(1, 3, 1, 1)
    torch.testing.assert_close(luminance(img), (img * w).sum(1, keepdim=True))
    assert sum(LUMA_REC709) == pytest.approx(1.0)
    grey = saturate(img, 0.0)
    torch.testing.assert_close(grey, luminance(img).expand_as(img))
    torch.testing.assert_close(saturate(img, 1.0), img)


def test_filters_on_constants_and_steps():
    x = torch.full((1, 3, 20, 20), 0.3)
    assert torch.allclose(gaussian_blur(x, 2.0), x, atol=1e-6)
    assert torch.allclose(binomial_blur(x), x, atol=1e-6)
    assert laplacian(x).abs().max() < 1e-6
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 1.0
    gx, gy = sobel(step)
    assert gx.max() == pytest.approx(1.0) and gy.abs().max() == 0  # a unit step gives 1
    assert gaussian_blur(x, 0) is x


def test_resize_is_antialiased_and_clamped():
    img = torch.rand(1, 3, 64, 64)
    small = resize(img, 16)
    assert small.shape == (1, 3, 16, 16) and small.min() >= 0 and small.max() <= 1
    checker = (torch.arange(64)[:, None] + torch.arange(64)[None]) % 2
    flat = resize(checker.float().expand(1, 3, 64, 64), (8, 8))
    assert (flat - 0.5).abs().max() < 0.05  # antialiased: the checkerboard averages to grey
    assert resize(img, (64, 64)) is img
