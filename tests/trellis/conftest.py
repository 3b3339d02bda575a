"""Fixtures of the TRELLIS tests: one torch thread, a tiny random TRELLIS-layout weights folder."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).with_name("data")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """``pipeline.json`` + ``ckpts/`` + ``dinov2/`` with the tiny preset's random weights."""
    from photo3d.trellis.weights import write_random_pipeline

    return write_random_pipeline(tmp_path_factory.mktemp("tiny_trellis"))


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_weights):
    from photo3d.trellis.pipeline import TrellisPipeline

    return TrellisPipeline.from_folder(tiny_weights, "cpu")


@pytest.fixture
def object_image():
    """A 160x120 RGB photo-like object (two coloured boxes) on white."""
    import numpy as np
    from PIL import Image

    arr = np.full((120, 160, 3), 255, np.uint8)
    arr[30:90, 40:100] = (180, 60, 40)
    arr[50:70, 95:130] = (40, 90, 170)
    return Image.fromarray(arr)
