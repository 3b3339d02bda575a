"""Fixtures for the renderer tests."""

from __future__ import annotations

import pytest
from render_meshes import make_cube

from photo3d.assets.mesh import Mesh


@pytest.fixture
def cube() -> Mesh:
    """A cube with six distinctly coloured sides (vertex colours)."""
    return make_cube()
