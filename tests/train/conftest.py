"""Training tests: single-threaded torch; shared fixtures (``mv_tiny``, ``make_loss``,
``make_paradigm``) come from tests/conftest.py."""

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield
