"""Structure verification rejects geometric changes and accepts photometric ones; tone matching."""


import pytest
import torch

from photo3d.data.config import VerifyConfig
from photo3d.data.stages_grid import render_asset_grid, tone_grid
from photo3d.data.verify import verify_structure
from photo3d.eval.metrics.structure import edge_fscore, edge_map, silhouette_iou
from photo3d.imaging import SILHOUETTE_WHITE_TOLERANCE, foreground_mask
from photo3d.io import decode_image, encode_png
from photo3d.testing.openai_server import fake_edit


def decode_png(data):
    return decode_image(data, background=(1.0, 1.0, 1.0))


@pytest.fixture(scope="module")
def sugar_grid(sugar_box_path):
    """A real rig render of the bundled sugar box, 96 px per view."""
    return render_asset_grid(sugar_box_path, 96, backend="torch")


@pytest.mark.parametrize("mode,accepted", [("photoreal", True), ("identity", True), ("mirror", False),
                                           ("shift", False), ("rescale", False)])
def test_verification_on_sugar_box(sugar_grid, mode, accepted):
    raw = encode_png(sugar_grid)
    edited = decode_png(fake_edit(raw, "make it photoreal", mode))
    v = verify_structure(sugar_grid, edited, VerifyConfig())
    assert v.accepted is accepted, v.views
    assert len(v.views) == 4
    if not accepted:
        assert v.failed_checks


def test_scores_on_synthetic_shapes():
    img = torch.ones(2, 3, 64, 64)
    img[:, :, 16:48, 20:40] = 0.3
    moved = torch.roll(img, 10, dims=-1)
    m1, m2 = (foreground_mask(x, SILHOUETTE_WHITE_TOLERANCE, 1) for x in (img, moved))
    assert silhouette_iou(m1, m1).tolist() == [1.0, 1.0]
    assert (silhouette_iou(m1, m2) < 0.6).all()
    e1, e2 = edge_map(img), edge_map(moved)
    assert edge_fscore(e1, e1, 1).tolist() == [1.0, 1.0]
    assert (edge_fscore(e1, e2, 1) < 0.5).all()
    blank = torch.ones(1, 3, 8, 8)
    assert edge_fscore(edge_map(blank), edge_map(blank)).item() == 1.0  # nothing to disagree on


def test_resized_edit_and_feature_score():
    grid = torch.ones(3, 128, 128)
    grid[:, 16:48, 16:48] = 0.2
    grid[:, 80:112, 72:120] = 0.5

    class MeanPool:  # a tiny patch-token double: 8x8 average colours
        def patch_tokens(self, x):
            return torch.nn.functional.avg_pool2d(x, 4) + 0.1

    big = torch.nn.functional.interpolate(grid[None], scale_factor=2, mode="nearest")[0]
    cfg = VerifyConfig(encoder="double", min_feature_sim=0.9)
    v = verify_structure(grid, big, cfg, MeanPool())
    assert v.accepted and all("feature_sim" in s for s in v.views)
    v = verify_structure(grid, torch.flip(grid, dims=[-1]), cfg, MeanPool())
    assert not v.accepted


@pytest.mark.parametrize("mode", ["meanstd", "histogram"])
def test_tone_matching_moves_colours_to_the_render(sugar_grid, mode):
    edited = decode_png(fake_edit(encode_png(sugar_grid), "p", "photoreal"))
    toned = tone_grid(edited, sugar_grid, mode)
    fg = foreground_mask(sugar_grid[None], SILHOUETTE_WHITE_TOLERANCE, 1)[0, 0]
    err_before = (edited[:, fg].mean(1) - sugar_grid[:, fg].mean(1)).abs().sum()
    err_after = (toned[:, fg].mean(1) - sugar_grid[:, fg].mean(1)).abs().sum()
    assert err_after < err_before
    assert torch.equal(toned[:, ~fg], edited[:, ~fg])  # background untouched
    assert torch.equal(tone_grid(edited, sugar_grid, "none"), edited)
