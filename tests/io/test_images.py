"""The one image reader/writer: every decode path gives the same pixels, alpha in float."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from photo3d.errors import Photo3DError, UnreadableImageError
from photo3d.io import (
    as_png,
    decode_array,
    decode_image,
    encode_png,
    image_size,
    load_image,
    open_pil,
    save_image,
    to_uint8,
)


def _rgba_png() -> bytes:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    arr[0, 0, 3] = 128  # half transparent
    return encode_png(arr)


def test_alpha_is_composited_in_float_on_every_path(tmp_path):
    data = _rgba_png()
    arr = decode_array(data).astype(np.float64) / 255
    expected = arr[..., :3] * arr[..., 3:] + (1 - arr[..., 3:])
    from_bytes = decode_image(data, background=(1.0, 1.0, 1.0))
    (tmp_path / "a.png").write_bytes(data)
    from_file = load_image(tmp_path / "a.png", background=(1.0, 1.0, 1.0))
    assert torch.equal(from_bytes, from_file)
    np.testing.assert_allclose(from_bytes.permute(1, 2, 0).numpy(), expected, atol=1e-6)
    # not quantised to uint8 (the compositing happens on floats)
    assert not np.allclose(from_bytes.numpy() * 255, np.round(from_bytes.numpy() * 255), atol=1e-4)


def test_encode_is_deterministic_and_round_trips(tmp_path):
    img = torch.rand(3, 6, 4)
    assert encode_png(img) == encode_png(img) == encode_png(to_uint8(img))
    save_image(tmp_path / "x.png", img)
    assert (tmp_path / "x.png").read_bytes() == encode_png(img)
    back = decode_image(encode_png(img))
    assert (back - img).abs().max() <= 0.5 / 255 + 1e-6
    assert image_size(tmp_path / "x.png") == (4, 6)
    assert open_pil(tmp_path / "x.png").size == (4, 6)


def test_as_png_keeps_png_and_converts_others():
    from PIL import Image
    import io

    png = _rgba_png()
    assert as_png(png) is png
    buf = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buf, format="BMP")
    converted = as_png(buf.getvalue())
    assert converted.startswith(b"\x89PNG") and decode_array(converted).shape == (4, 4, 3)


def test_unreadable_bytes_are_one_clear_error(tmp_path):
    with pytest.raises(UnreadableImageError, match="grid.png: not a readable image"):
        decode_image(b"not an image", source="grid.png")
    with pytest.raises(UnreadableImageError):
        as_png(_rgba_png()[:40])
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(Photo3DError, match="bad.png"):
        image_size(tmp_path / "bad.png")
