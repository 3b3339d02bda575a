"""TRELLIS's condition: object crop x1.2 on black at 518^2, DINOv2 pre-norm tokens, zeros known up front."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from photo3d.errors import InputError
from photo3d.trellis.conditioning import crop_to_object, prepare_image, view_condition


def test_crop_to_object_centres_and_scales_the_object_on_black():
    arr = np.zeros((300, 400, 4), np.uint8)
    arr[100:200, 150:250] = (255, 0, 0, 255)  # a 100 px red square, off-centre in the frame
    out = np.asarray(crop_to_object(Image.fromarray(arr, "RGBA")))
    assert out.shape == (518, 518, 3)
    red = np.argwhere(out[..., 0] > 128)
    side = red.max(0) - red.min(0) + 1
    assert np.all(np.abs(side - 518 * 100 / 118) < 3)  # bbox extent 99 -> int(99 * 1.2) = 118 px square crop
    assert np.abs(red.mean(0) - 258.5).max() < 6  # centred (to the rounding of the crop box, as TRELLIS)
    assert out[5, 5].tolist() == [0, 0, 0]  # premultiplied: the background is black


def test_prepare_image_mattes_white_backgrounds_and_keeps_alpha(object_image):
    img, how = prepare_image(object_image, "threshold")
    assert img.size == (518, 518) and how == "threshold"
    rgba = object_image.convert("RGBA")
    a = np.asarray(rgba).copy()
    a[..., 3] = np.where(a[..., :3].min(-1) < 250, 255, 0)
    img2, how2 = prepare_image(Image.fromarray(a, "RGBA"))
    assert how2 == "alpha channel" and np.abs(np.asarray(img2, np.int16) - np.asarray(img, np.int16)).mean() < 8
    with pytest.raises(InputError, match="no foreground"):
        prepare_image(Image.new("RGB", (64, 64), "white"), "threshold")


def test_view_condition_is_a_518_crop():
    view = torch.ones(3, 128, 128)
    view[:, 40:90, 20:70] = torch.tensor([0.2, 0.4, 0.6]).view(3, 1, 1)
    cond = view_condition(view)
    assert cond.shape == (3, 518, 518)
    torch.testing.assert_close(cond[:, 259, 259], torch.tensor([0.2, 0.4, 0.6]), atol=0.01, rtol=0)
    assert float(cond[:, :8, :8].max()) < 0.01  # the white background became black (premultiplied alpha)


def test_conditioner_tokens_and_zero_shape(tiny_pipeline):
    cond = tiny_pipeline.conditioner
    assert cond.token_shape == (1374, 32)  # 1 + 4 registers + 37^2 patches, known from the config
    assert cond.zeros(2).shape == (2, 1374, 32)
    tokens = cond(torch.rand(1, 3, 518, 518))
    assert tokens.shape == (1, 1374, 32)
    torch.testing.assert_close(tokens.mean(-1), torch.zeros(1, 1374), atol=1e-5, rtol=0)  # affine-free LayerNorm
    with pytest.raises(InputError, match="518x518"):
        cond(torch.rand(1, 3, 512, 512))
    assert cond.is_standin and "random" in cond.name
