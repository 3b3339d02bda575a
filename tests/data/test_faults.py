"""Real openai client + real HTTP against the fake server, with injected faults."""

import json

import pytest
from data_helpers import asset_config

from photo3d.data.clients import Endpoint, OpenAIClient
from photo3d.data.retry import RetryPolicy
from photo3d.data.stage import StageFailure
from photo3d.testing import FakeOpenAIServer
from photo3d.testing.openai_server import fake_generation

PNG = fake_generation("a grid", 32)


def client(srv, **kw) -> OpenAIClient:
    return OpenAIClient(Endpoint(base_url=srv.base_url, timeout_s=0.5,
                                 policy=RetryPolicy(max_retries=kw.pop("retries", 3), base_s=0.01, cap_s=0.02), **kw))


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "drop", "truncated", "nonimage", "html"])
def test_transient_faults_are_retried_to_success(api_key, fault):
    with FakeOpenAIServer(faults=[f"edits:{fault}"]) as srv:
        log: list = []
        out = client(srv).edit_image("gpt-image-1", PNG, "make it real", log=log)
        assert out[:8] == b"\x89PNG\r\n\x1a\n"
        assert srv.calls["edits"] == 2 and srv.served["edits"] == 1
        assert len(log) == 1 and log[0]["reason"] in {"rate_limited", "server_error", "timeout", "connection_error",
                                                      "bad_response"}
        if fault == "429":
            assert log[0]["wait_s"] == pytest.approx(0.05)  # Retry-After honoured


@pytest.mark.parametrize("fault,reason,permanent", [("policy", "content_policy", True),
                                                    ("404", "model_not_found", False),
                                                    ("401", "auth_error", False)])
def test_permanent_faults_are_recorded_not_retried(api_key, fault, reason, permanent):
    with FakeOpenAIServer(faults=[f"edits:{fault}"]) as srv:
        with pytest.raises(StageFailure) as info:
            client(srv).edit_image("gpt-image-1", PNG, "p")
        assert info.value.reason == reason and info.value.permanent is permanent
        assert srv.calls["edits"] == 1


def test_retries_exhausted_and_missing_key(monkeypatch, api_key):
    with FakeOpenAIServer(faults=["chat:500"] * 5) as srv:
        with pytest.raises(StageFailure) as info:
            client(srv, retries=2).chat("fake-llm", [{"role": "user", "content": "hi"}])
        assert info.value.reason == "server_error" and srv.calls["chat"] == 3
        monkeypatch.delenv("OPENAI_API_KEY")
        with pytest.raises(StageFailure) as info:
            client(srv).chat("fake-llm", [{"role": "user", "content": "hi"}])
        assert info.value.reason == "missing_api_key" and "OPENAI_API_KEY" in info.value.message
        assert srv.calls["chat"] == 3  # no request without a key


def test_build_survives_faults_and_never_leaks_the_key(api_key, tiny_assets, tmp_path):
    """Faults hit different samples; the run goes on, failures carry reasons, no key in outputs."""
    from photo3d.data import build, status
    from photo3d.data.config import config_from_dict

    faults = ["edits:429", "edits:policy", "edits:drop", "edits:404", "edits:truncated"]
    with FakeOpenAIServer(faults=faults, api_key=api_key) as srv:
        cfg = config_from_dict(asset_config(tmp_path / "out", tiny_assets, srv.base_url,
                                            executor={"concurrency": {"edit": 1}}))
        res = build(cfg)
    rows = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    reasons = sorted(r.get("reason") or "ok" for r in rows)
    assert reasons == ["content_policy", "model_not_found", "ok", "ok"]
    assert res.stats.failed == {"content_policy": 1, "model_not_found": 1}
    st = status(tmp_path / "out")
    assert st["failures_by_reason"] == {"content_policy": 1, "model_not_found": 1}
    assert st["stages"]["write"]["done"] == 2
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert api_key.encode() not in path.read_bytes(), path
    # rerun: the transient failure (404) is retried, the permanent one (policy) is not
    with FakeOpenAIServer(api_key=api_key) as srv2:
        cfg.api.base_url = srv2.base_url
        build(cfg)
        assert srv2.calls["edits"] == 1
