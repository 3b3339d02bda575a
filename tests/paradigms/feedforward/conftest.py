"""Fixtures of the feed-forward paradigm tests: tiny networks, small meshes."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny_cfg():
    """``tiny_cfg(**overrides)``: a tiny :class:`FeedForwardConfig` at depth 5 with 6000 points."""
    from photo3d.paradigms.feedforward import FeedForwardConfig

    def make(**kw):
        base = dict(model="tiny", text_encoder="tiny", depth=5, train_points=6000, infer_points=6000)
        return FeedForwardConfig(**{**base, **kw})

    return make
