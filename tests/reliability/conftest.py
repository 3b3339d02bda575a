"""Fixtures of the reliability suite: a textured cube with a reference that passes the reference
check, sugar-box rig views, a fake OpenAI server, an API key, a finished tiny training run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reliability_helpers import MV_TINY, SUGAR_BOX, TRAIN_FAST, cube

API_KEY = "sk-photo3d-reliability-0123456789"


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread):
    yield


@pytest.fixture
def cube_case(tmp_path) -> tuple[Path, Path]:
    """``(cube.glb, ref.png)``: a textured cube and its own 48 px rig grid with brighter colours
    (a photometric edit: the structure is the asset's, so the reference check passes)."""
    from photo3d.assets import load_asset
    from photo3d.io import save_image
    from photo3d.render import render_grid

    asset = cube.write_cube(tmp_path / "cube.glb", cube.cube_texture(0))
    grid = render_grid(load_asset(asset), 48)
    edited = (1.15 * grid - 0.05).clamp(0, 1)
    return asset, save_image(tmp_path / "ref.png", edited)


@pytest.fixture(scope="session")
def sugar_views():
    """The sugar box's four rig views at 64 px, ``[4, 3, 64, 64]`` (rendered once)."""
    import torch

    from photo3d.assets import load_asset
    from photo3d.cameras import rig_cameras
    from photo3d.render import render_views

    with torch.no_grad():
        return render_views(load_asset(SUGAR_BOX), rig_cameras(64), ssaa=2).rgb


@pytest.fixture
def api_key(monkeypatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    return API_KEY


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A finished 2-step coupled run on mv_tiny with checkpoints (copy it before resuming)."""
    from photo3d.cli import main

    out = tmp_path_factory.mktemp("train") / "run"
    assert main(["train", "coupled", "--data", str(MV_TINY), "--out", str(out), *TRAIN_FAST]) == 0
    return out


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A private copy of :func:`trained_run`."""
    return Path(shutil.copytree(trained_run, tmp_path / "run"))

