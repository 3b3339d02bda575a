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


@pytest.fixture(scope="session")
def mv_tiny() -> Path:
    """The bundled tiny Photo3D-MV set (layout of the dataset builder's output)."""
    return EXAMPLES / "mv_tiny"


@pytest.fixture
def one_torch_thread():
    """Run the test with one intra-op torch thread.

    Tiny tensors: intra-op threading only adds synchronisation cost (and is very slow on a shared,
    oversubscribed CI machine).
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def textured_views():
    """``textured_views(n=2, size=64, seed=0)``: white views with a random-coloured square object."""
    return _textured_views


def _textured_views(n: int = 2, size: int = 64, seed: int = 0):
    import torch

    gen = torch.Generator().manual_seed(seed)
    img = torch.ones(n, 3, size, size)
    lo, hi = size // 4, 3 * size // 4
    img[:, :, lo:hi, lo:hi] = 0.2 + 0.6 * torch.rand(n, 3, hi - lo, hi - lo, generator=gen)
    return img


@pytest.fixture
def make_loss():
    """``make_loss(resolution=32, n_crops=2)``: L_real with the tiny random encoders."""
    return _tiny_loss


@pytest.fixture
def make_paradigm():
    """``make_paradigm(**overrides)``: a tiny coupled paradigm (seeded) for 32 px views."""
    return _tiny_paradigm


def _tiny_loss(resolution: int = 32, n_crops: int = 2):
    from photo3d.encoders import load_encoder
    from photo3d.losses import RealLoss, RealLossConfig

    cfg = RealLossConfig(n_crops=n_crops, min_crop=16, match_size=resolution)
    return RealLoss.from_config(cfg, load_encoder("tiny-clip"), load_encoder("tiny-dino"))


def _tiny_paradigm(**overrides):
    import torch

    from photo3d.paradigms.coupled import CoupledConfig, build_coupled

    torch.manual_seed(0)
    cfg = CoupledConfig(voxel_resolution=8, width=32, depth=1, gaussians_per_voxel=2, **overrides)
    return build_coupled(cfg)


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
