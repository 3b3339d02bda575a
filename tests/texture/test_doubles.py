"""The deterministic test-double texturers."""

from __future__ import annotations

import pytest
import torch

from photo3d.assets import load_asset
from photo3d.errors import InputError
from photo3d.texture import GaussiansResult, ViewsResult, get_texturer
from photo3d.texture.base import Texturer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_views_double_is_deterministic_and_uses_prompt_and_image(bunny_path):
    asset = load_asset(bunny_path)
    tex = get_texturer("testing-views")("tiny", "cpu", resolution=48)
    assert isinstance(tex, Texturer)
    a = tex.texture(asset, "oak", None, 0)
    assert isinstance(a, ViewsResult) and a.images.shape == (6, 3, 48, 48) and a.cameras.is_orthographic
    assert a.view_weights == [1.0, 0.1, 0.5, 0.1, 0.05, 0.05] and a.record["standin"] is True
    assert torch.equal(a.images, tex.texture(asset, "oak", None, 0).images)
    assert not torch.equal(a.images, tex.texture(asset, "steel", None, 0).images)
    assert not torch.equal(a.images, tex.texture(asset, "oak", None, 1).images)
    tinted = tex.texture(asset, "oak", torch.zeros(3, 8, 8), 0)
    fg = a.images.min(1).values < 0.99
    assert float(tinted.images.permute(1, 0, 2, 3)[:, fg].mean()) < float(a.images.permute(1, 0, 2, 3)[:, fg].mean())
    assert float(a.images[:, :, 0, 0].min()) == 1.0  # white background


def test_gaussians_double_lies_on_the_surface(bunny_path):
    pytest.importorskip("xatlas")
    asset = load_asset(bunny_path)
    res = get_texturer("testing-gaussians")("tiny", "cpu", density=32).texture(asset, "oak", None, 0)
    assert isinstance(res, GaussiansResult) and res.record["standin"] is True
    g = res.gaussians
    lo, hi = torch.tensor(asset.mesh.bounds()).float()
    assert len(g) > 200 and bool(((g.means >= lo - 1e-4) & (g.means <= hi + 1e-4)).all())
    assert res.materials.shape == (len(g), 2) and 0 <= float(res.materials.min()) <= float(res.materials.max()) <= 1


def test_doubles_refuse_weights_and_unknown_options():
    with pytest.raises(InputError, match="--weights tiny"):
        get_texturer("testing-views")("/some/dir", "cpu")
    with pytest.raises(InputError, match="unknown option.*steps"):
        get_texturer("testing-gaussians")("tiny", "cpu", steps=3)
