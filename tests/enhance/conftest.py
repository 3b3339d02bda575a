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
cube_texture, write_cube, edited_texture = cube_asset.cube_texture, cube_asset.write_cube, cube_asset.edited_texture


@pytest.fixture
def cube_path(tmp_path) -> Path:
    """A textured cube GLB (48x32 atlas; the rig at pitch 0 never sees its top and bottom)."""
    return write_cube(tmp_path / "cube.glb", cube_texture(0))


def _grid(tmp_path, name: str, texture) -> Path:
    from photo3d.assets import load_asset
    from photo3d.io import save_image
    from photo3d.render import render_grid

    return save_image(tmp_path / f"{name}.png", render_grid(load_asset(write_cube(tmp_path / f"{name}.glb", texture)), 64))


@pytest.fixture
def cube_grid(tmp_path, cube_path) -> Path:
    """An aligned "edit" of the cube (same structure, more contrast, shifted colour), 64 px views."""
    return _grid(tmp_path, "edited", edited_texture(cube_texture(0)))


@pytest.fixture
def other_grid(tmp_path, cube_path) -> Path:
    """The rig grid of a cube with a *different* random texture (no structure in common)."""
    return _grid(tmp_path, "other", cube_texture(1))
