"""Failure class: the reference is never checked against the asset.

``photo3d enhance`` used to optimise toward whatever grid it was given. Now each reference view is
scored against the asset's render at its camera with the builder's structure verification and
thresholds, before any optimisation step.
"""

from __future__ import annotations

import json

import pytest
import torch
from reliability_helpers import SUGAR_BOX, error_lines, run

FAST64 = ["--resolution", "64", "--steps", "1", "--encoders", "tiny", "--n-crops", "2", "--match-size", "64",
          "--no-progress", "--no-turntable"]


def _grid(views: torch.Tensor, case: str) -> torch.Tensor:
    from photo3d.grid import compose_grid

    if case == "mirrored":
        return compose_grid(views.flip(-1))
    if case == "reordered":
        return compose_grid(views[[1, 0, 3, 2]])
    if case == "other object":  # the bunny's views in the sugar box's grid
        from photo3d.assets import load_asset
        from photo3d.cameras import rig_cameras
        from photo3d.render import render_views
        from reliability_helpers import EXAMPLES

        with torch.no_grad():
            return compose_grid(render_views(load_asset(EXAMPLES / "pmndrs_bunny" / "bunny.glb"), rig_cameras(64)).rgb)
    if case == "black":
        return torch.zeros(3, 128, 128)
    if case == "white":
        return torch.ones(3, 128, 128)
    if case == "tiny":
        return torch.rand(3, 2, 2)
    raise AssertionError(case)


# (case, what the line for a bad view says, how many views fail at least)
BAD = [
    ("mirrored", "looks mirrored", 1),
    ("reordered", "matches the asset's view 1 instead", 4),
    ("other object", "the silhouette differs", 4),
    ("black", "blank (one flat colour, RGB 0 0 0)", 4),
    ("white", "blank (one flat colour, RGB 255 255 255)", 4),
    ("tiny", "too small", 0),
]


@pytest.mark.parametrize("case, says, n_bad", BAD, ids=[b[0] for b in BAD])
def test_a_reference_that_does_not_show_the_asset_stops_before_any_work(case, says, n_bad, sugar_views, tmp_path,
                                                                         capsys):
    """Guards: a mirrored grid, cells in the wrong order, another object, an all-black or all-white
    grid, or a 2x2-pixel image was optimised toward silently (exit 0). Now: exit 2, one line per bad
    view naming it and what looks wrong, and nothing written."""
    from photo3d.io import save_image

    ref = save_image(tmp_path / "ref.png", _grid(sugar_views, case))
    out = tmp_path / "out"
    code, _, err = run(["enhance", SUGAR_BOX, "-r", ref, "-o", out, *FAST64], capsys)
    assert code == 2, err
    lines = error_lines(err, "enhance")
    assert len(lines) == len(err), err  # nothing but error lines: no traceback, no warnings
    if n_bad:
        views = [line for line in lines if " view " in line and "against the asset's render" in line]
        assert len(views) >= n_bad and any(says in line for line in views), lines
        assert "pass --force" in lines[-1] and len(lines) == len(views) + 1
    else:
        assert len(lines) == 1 and says in lines[0]
    assert not out.exists()  # stopped before the optimisation: no folder, no half set


def test_force_runs_anyway_and_records_the_scores(sugar_views, tmp_path, capsys):
    """Guards: ``--force`` overrides the check, and the per-view scores land in record.json."""
    from photo3d.io import save_image

    ref = save_image(tmp_path / "ref.png", _grid(sugar_views, "reordered"))
    code, _, err = run(["enhance", SUGAR_BOX, "-r", ref, "-o", tmp_path / "out", "--force", *FAST64], capsys)
    assert code == 0, err
    assert any("photo3d enhance: warning: 4 of 4 reference views do not show this asset" in line for line in err)
    check = json.loads((tmp_path / "out" / "record.json").read_text())["reference"]["check"]
    assert check["forced"] is True and check["passed"] is False
    assert [v["passed"] for v in check["views"]] == [False] * 4
    assert check["thresholds"] == {"min_iou": 0.85, "min_edge_f": 0.7, "min_edge_recall": 0.9}


def test_a_good_reference_passes_with_its_scores_recorded(sugar_views, tmp_path, capsys):
    """Guards: a photometric edit of the asset's own views passes; the check does not cry wolf."""
    from photo3d.grid import compose_grid
    from photo3d.io import save_image

    edited = (1.1 * sugar_views - 0.03).clamp(0, 1)
    ref = save_image(tmp_path / "ref.png", compose_grid(edited))
    code, _, err = run(["enhance", SUGAR_BOX, "-r", ref, "-o", tmp_path / "out", *FAST64], capsys)
    assert code == 0, err
    check = json.loads((tmp_path / "out" / "record.json").read_text())["reference"]["check"]
    assert check["passed"] is True and check["forced"] is False
    assert all(v["iou"] > 0.9 and v["edge_f"] > 0.7 for v in check["views"])


def test_a_reference_that_adds_detail_passes(sugar_views):
    """Guards: the check scored edges with the builder's F-score alone, whose precision drops with
    every edge an edit adds, so a detailed reference of a plastic asset (the job ``enhance`` exists
    for: the cracker box's printed text, edge F 0.53-0.61) was refused. A reference that keeps the
    render's edges passes however many it adds."""
    from photo3d.enhance.reference_check import check_references
    from photo3d.imaging.masks import foreground_mask

    views = sugar_views.float()
    h, w = views.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    stripes = (((xx + yy) // 4) % 2).float() * 0.35  # printed detail the render lacks
    fg = foreground_mask(views, 0.06).float()
    detailed = (views - fg * stripes).clamp(0, 1)
    check = check_references(views, detailed)
    assert check.passed, check.views
    assert min(v["edge_f"] for v in check.views) < 0.7  # the F-score rule would have refused it
    mirrored = check_references(views, detailed.flip(-1))
    assert not mirrored.passed


def test_the_check_and_the_ground_truth_come_before_the_optimisation(cube_case, tmp_path):
    """Guards: ``--ground-truth`` was loaded only after the whole optimisation (a broken file
    failed at the end). Now a broken ground truth stops the run before step 1."""
    from photo3d.enhance import EnhanceConfig
    from photo3d.enhance.pipeline import enhance
    from photo3d.errors import Photo3DError

    asset, ref = cube_case
    broken = tmp_path / "truth.glb"
    broken.write_bytes(b"glTF" + b"\x00" * 40)
    steps = []
    cfg = EnhanceConfig(steps=2, resolution=48, encoders="tiny", n_crops=2, match_size=48, progress=False,
                        turntable=False)
    with pytest.raises(Photo3DError, match="truth.glb"):
        enhance(asset, ref, tmp_path / "out", cfg, ground_truth=broken, log=None,
                on_step=lambda step, rec: steps.append(step))
    assert steps == [] and not (tmp_path / "out").exists()
