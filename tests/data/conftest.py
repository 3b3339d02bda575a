"""Fixtures of the builder tests: tiny assets, a fake OpenAI server, an API key."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import API_KEY, make_tiny_assets

from photo3d.testing import FakeOpenAIServer


@pytest.fixture
def api_key(monkeypatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    return API_KEY


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def tiny_assets(tmp_path) -> Path:
    return make_tiny_assets(tmp_path / "assets", 4)
