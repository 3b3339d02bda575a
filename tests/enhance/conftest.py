"""Tiny assets and references for the enhance tests (built in tmp folders, nothing read from disk)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _load_helpers():
    spec = importlib.util.spec_from_file_location("enhance_cube_asset", Path(__file__).with_name("cube_asset.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


cube_asset = _load_helpers()
cube_texture, write_cube = cube_asset.cube_texture, cube_asset.write_cube


@pytest.fixture
def cube_path(tmp_path) -> Path:
    """A textured cube GLB (48x32 atlas; the rig at pitch 0 never sees its top and bottom)."""
    return write_cube(tmp_path / "cube.glb", cube_texture(0))


@pytest.fixture
def cube_grid(tmp_path, cube_path) -> Path:
    """An aligned reference: the rig grid of a cube with a *different* texture, 64 px views."""
    from photo3d.io import save_image
    from photo3d.render import render_grid

    from photo3d.assets import load_asset

    other = write_cube(tmp_path / "other.glb", cube_texture(1))
    return save_image(tmp_path / "ref.png", render_grid(load_asset(other), 64))
