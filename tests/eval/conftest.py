"""Fixtures for the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_helpers import make_enhance_dir


@pytest.fixture
def enhance_root(tmp_path) -> Path:
    return make_enhance_dir(tmp_path / "enhance")
