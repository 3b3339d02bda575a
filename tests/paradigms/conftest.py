"""Fixtures for the training tests: the bundled tiny Photo3D-MV set and a cheap L_real."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

MV_TINY = Path(__file__).resolve().parents[2] / "src" / "photo3d" / "examples" / "mv_tiny"


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny tensors: intra-op threading only adds synchronisation cost (and is very slow on a
    # shared, oversubscribed CI machine).
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def mv_tiny() -> Path:
    return MV_TINY


@pytest.fixture
def make_loss():
    return _tiny_loss


@pytest.fixture
def make_paradigm():
    return _tiny_paradigm


def _tiny_loss(resolution: int = 32, n_crops: int = 2):
    """L_real with the tiny random encoders, sized for 32 px views."""
    from photo3d.encoders import load_encoder
    from photo3d.losses import RealLoss, RealLossConfig

    cfg = RealLossConfig(n_crops=n_crops, min_crop=16, match_size=resolution)
    return RealLoss.from_config(cfg, load_encoder("tiny-clip"), load_encoder("tiny-dino"))


def _tiny_paradigm(**overrides):
    from photo3d.paradigms.coupled import CoupledConfig, build_coupled

    torch.manual_seed(0)
    cfg = CoupledConfig(voxel_resolution=8, width=32, depth=1, gaussians_per_voxel=2, **overrides)
    return build_coupled(cfg)
