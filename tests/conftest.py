"""Shared fixtures. Tests run on CPU, offline, with tiny models; nothing reads ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "photo3d" / "examples"


@pytest.fixture(scope="session")
def sugar_box_path() -> Path:
    """The bundled photoscanned YCB sugar box (GLB, 16k faces, 1024² texture)."""
    return EXAMPLES / "ycb_004_sugar_box" / "004_sugar_box_1k.glb"


@pytest.fixture(scope="session")
def bunny_path() -> Path:
    """The bundled Stanford bunny (GLB, untextured, no UVs)."""
    return EXAMPLES / "pmndrs_bunny" / "bunny.glb"


@pytest.fixture(autouse=True)
def _seed():
    import torch

    torch.manual_seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    run_slow = os.environ.get("PHOTO3D_RUN_SLOW") == "1"
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:  # pragma: no cover
        has_cuda = False
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: set PHOTO3D_RUN_SLOW=1"))
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs CUDA"))
