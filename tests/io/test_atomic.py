import json

import pytest
import torch

from photo3d.errors import Photo3DError
from photo3d.io import atomic_path, atomic_write_json, load_image, save_image


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("crash mid-write")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_json_and_png_round_trip(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": torch.tensor([1, 2]).numpy()})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": [1, 2]}
    img = torch.rand(3, 8, 9)
    save_image(tmp_path / "i.png", img)
    back = load_image(tmp_path / "i.png")
    assert back.shape == (3, 8, 9)
    assert (back - img).abs().max() <= 0.5 / 255 + 1e-6


def test_alpha_composited_on_background(tmp_path):
    rgba = torch.zeros(4, 2, 2)
    rgba[0] = 1.0  # red, fully transparent
    save_image(tmp_path / "t.png", rgba)
    out = load_image(tmp_path / "t.png", background=(1.0, 1.0, 1.0))
    assert torch.allclose(out, torch.ones(3, 2, 2))


def test_bad_image_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    with pytest.raises(Photo3DError, match="bad.png"):
        load_image(bad)
    with pytest.raises(Photo3DError, match="no such image"):
        load_image(tmp_path / "missing.png")


def test_final_file_has_normal_permissions(tmp_path):
    import os

    path = atomic_write_json(tmp_path / "p.json", {})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
