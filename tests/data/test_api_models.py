"""Contract tests of the OpenAI calls: the real ``openai`` client, real HTTP, and a local server that
refuses what the API refuses (``strict_params``: its rules are written from the client's API
reference, apart from :mod:`photo3d.data.api_models`)."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from data_helpers import asset_config, make_tiny_assets

from photo3d.data import build
from photo3d.data.api_models import DEFAULT_EDIT_MODEL, IMAGE_MODELS
from photo3d.data.clients import Endpoint, OpenAIClient
from photo3d.data.config import config_from_dict
from photo3d.data.retry import RetryPolicy
from photo3d.data.stage import StageFailure
from photo3d.errors import ConfigError
from photo3d.testing import FakeOpenAIServer
from photo3d.testing.openai_server import fake_generation

openai = pytest.importorskip("openai")
PNG = fake_generation("a grid", 32)


def _client(srv, retries: int = 3) -> OpenAIClient:
    return OpenAIClient(Endpoint(base_url=srv.base_url, timeout_s=1.0,
                                 policy=RetryPolicy(max_retries=retries, base_s=0.01, cap_s=0.02)))


def _manifest(out):
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_default_edit_passes_the_api_and_keeps_structure(api_key, tmp_path):
    """The default edit model used to be gpt-image-1 (shut down 2026-10-23: every edit failed)."""
    assets = make_tiny_assets(tmp_path / "assets", 1)
    with FakeOpenAIServer(strict_params=True) as srv:
        res = build(config_from_dict(asset_config(tmp_path / "out", assets, srv.base_url)))
        edit_bodies = [b for b in srv.bodies if "prompt" in b]
    assert res and [r["status"] for r in _manifest(tmp_path / "out")] == ["ok"]
    assert edit_bodies[0]["model"] == DEFAULT_EDIT_MODEL == "gpt-image-1.5"
    assert edit_bodies[0]["input_fidelity"] == "high"  # structure preservation, exposed and on
    assert "response_format" not in edit_bodies[0]


def test_a_model_without_input_fidelity_is_not_sent_one(api_key, tmp_path):
    assets = make_tiny_assets(tmp_path / "assets", 1)
    with FakeOpenAIServer(strict_params=True) as srv:
        build(config_from_dict(asset_config(tmp_path / "out", assets, srv.base_url,
                                            edit={"model": "gpt-image-2"})))
        (body,) = [b for b in srv.bodies if "prompt" in b]
    assert body["model"] == "gpt-image-2" and "input_fidelity" not in body
    assert _manifest(tmp_path / "out")[0]["status"] == "ok"


def test_choices_the_openai_endpoint_refuses_fail_at_load(tmp_path):
    base = {"out": str(tmp_path), "source": {"kind": "prompts", "prompts": ["a cat"]}}
    with pytest.raises(ConfigError, match="shut down on 2026-10-23.*gpt-image-2.5"):
        config_from_dict({**base, "edit": {"model": "gpt-image-1"}})
    with pytest.raises(ConfigError, match="input_fidelity = 'high': gpt-image-2 takes none"):
        config_from_dict({**base, "edit": {"model": "gpt-image-2", "input_fidelity": "high"}})
    with pytest.raises(ConfigError, match="input_fidelity = 'high': gpt-image-1-mini takes only low"):
        config_from_dict({**base, "edit": {"model": "gpt-image-1-mini", "input_fidelity": "high"}})
    # the rewrite default used to be a Llama id on the openai backend with no base_url
    with pytest.raises(ConfigError, match="not served by api.openai.com: set rewrite.base_url"):
        config_from_dict({**base, "rewrite": {"backend": "openai", "model": "meta-llama/Meta-Llama-3-8B-Instruct"}})
    cfg = config_from_dict(base)  # the defaults are coherent
    assert cfg.rewrite.backend == "transformers" and cfg.edit.model == DEFAULT_EDIT_MODEL
    # another endpoint serves its own models: nothing to check here
    config_from_dict({**base, "api": {"base_url": "http://localhost:8000/v1"},
                      "rewrite": {"backend": "openai", "model": "meta-llama/Meta-Llama-3-8B-Instruct"}})


@pytest.mark.parametrize("model", ["o4-mini", "gpt-5.4-mini"])
def test_reasoning_models_get_max_completion_tokens_and_no_temperature(api_key, model):
    """Before, every chat call sent max_tokens and temperature=0, which reasoning models refuse (400)."""
    with FakeOpenAIServer(strict_params=True) as srv:
        text = _client(srv).chat(model, [{"role": "user", "content": "a chair"}], temperature=0.0, max_tokens=64)
        (body,) = srv.bodies
    assert text and body["max_completion_tokens"] == 64 and "max_tokens" not in body and "temperature" not in body


def test_an_endpoint_refusing_sampling_parameters_is_asked_again_without_them(api_key, monkeypatch):
    from photo3d.testing import openai_server

    monkeypatch.setitem(openai_server.PARAMETER_RULES, "gateway/thinker", {"reasoning": True})
    with FakeOpenAIServer(strict_params=True) as srv:
        assert _client(srv).chat("gateway/thinker", [{"role": "user", "content": "x"}], max_tokens=32)
        sent = [(("max_tokens" in b), ("temperature" in b), b.get("max_completion_tokens")) for b in srv.bodies]
    assert sent == [(True, True, None), (False, True, 32), (False, False, 32)]


def test_image_models_match_the_installed_client():
    """Our table against the ``openai`` package's own model list and its shut-down notes."""
    from openai.types import image_model

    listed = set(typing.get_args(image_model.ImageModel))
    assert set(IMAGE_MODELS) <= listed, set(IMAGE_MODELS) - listed
    deprecated = Path(image_model.__file__).read_text(encoding="utf-8").split("Deprecated values:")[-1]
    for name, m in IMAGE_MODELS.items():
        assert (f'"{name}"' in deprecated) == (m.shut_down is not None), name
    edit_params = Path(openai.types.image_edit_params.__file__).read_text(encoding="utf-8")
    assert "input_fidelity" in edit_params and "Supports `high` and `low` on\n    `gpt-image-1.5`" in edit_params


def test_insufficient_quota_is_final(api_key):
    """A 429 insufficient_quota (billing) used to be retried like a rate limit."""
    with FakeOpenAIServer(faults=["edits:quota"]) as srv:
        with pytest.raises(StageFailure) as info:
            _client(srv).edit_image(DEFAULT_EDIT_MODEL, PNG, "p")
        assert srv.calls["edits"] == 1
    assert info.value.reason == "quota_exceeded" and not info.value.permanent


def test_retry_after_as_an_http_date_is_honoured(api_key):
    """Before, an HTTP-date Retry-After was ignored (our 5-10 s backoff instead of ~1 s)."""
    log: list = []
    with FakeOpenAIServer(faults=["edits:429date"]) as srv:
        client = OpenAIClient(Endpoint(base_url=srv.base_url, timeout_s=1.0,
                                       policy=RetryPolicy(max_retries=2, base_s=10.0, cap_s=10.0)))
        assert client.edit_image(DEFAULT_EDIT_MODEL, PNG, "p", log=log)
    assert log[0]["reason"] == "rate_limited" and 0.0 <= log[0]["wait_s"] <= 1.1


def test_retry_after_date_parsing():
    from email.utils import formatdate

    from photo3d.data.retry import retry_after_date

    now = 1_800_000_000.0
    assert retry_after_date(formatdate(now + 30, usegmt=True), now) == pytest.approx(30.0)
    assert retry_after_date(formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after_date("soon", now) is None
