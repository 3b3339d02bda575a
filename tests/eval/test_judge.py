import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from photo3d.eval.judge import JudgeConfig, PairwiseJudge, parse_verdict, swap_for, win_rate

pytest.importorskip("openai")
server_mod = pytest.importorskip("photo3d.testing.openai_server")


def _images(messages) -> list[np.ndarray]:
    parts = messages[-1]["content"]
    out = []
    for p in parts:
        if p.get("type") == "image_url":
            b64 = p["image_url"]["url"].split(",", 1)[1]
            out.append(
                np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"), dtype=np.float64)
            )
    return out


def detail_responder(messages) -> str:
    """Prefers the image with more pixel variance (the 'detailed' one)."""
    first, second = _images(messages)
    return "A" if first.std() > second.std() else "B"


@pytest.mark.parametrize(
    "text,want",
    [
        ("A", "A"),
        ("b.", "B"),
        (" TIE ", "tie"),
        ('{"winner": "B"}', "B"),
        ('```json\n{"winner": "tie"}\n```', "tie"),
        ("I think A", None),
        ("", None),
        ('{"winner": "C"}', None),
        ("{bad json", None),
    ],
)
def test_parse_verdict_is_strict(text, want):
    assert parse_verdict(text) == want


def test_order_is_randomised_and_seeded():
    flips = [swap_for(f"item{i}", 0) for i in range(40)]
    assert 5 < sum(flips) < 35
    assert flips == [swap_for(f"item{i}", 0) for i in range(40)]
    assert flips != [swap_for(f"item{i}", 1) for i in range(40)]


def test_judge_over_real_http_unswaps_and_counts(monkeypatch):
    flat = torch.full((3, 16, 16), 0.5)
    detailed = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-secret-123")
    with server_mod.FakeOpenAIServer(chat_responder=detail_responder, api_key="sk-secret-123") as srv:
        judge = PairwiseJudge(
            JudgeConfig(base_url=srv.base_url, model="fake-llm", api_key_env="JUDGE_TEST_KEY")
        )
        assert judge.reason() is None
        verdicts = [judge.judge_pair(f"obj{i}", flat, detailed) for i in range(8)]
    assert {v["b_first"] for v in verdicts} == {True, False}  # both orders were shown
    assert all(v["valid"] and v["winner"] == "B" for v in verdicts)  # B (detailed) wins whatever the order
    rate = win_rate(verdicts, n_resamples=200)
    assert rate["value"] == 1.0 and rate["wins_b"] == 8 and rate["invalid"] == 0
    assert "sk-secret-123" not in json.dumps(verdicts) + json.dumps(judge.config.describe())


def test_malformed_answers_are_retried_then_invalid(monkeypatch):
    answers = {"n": 0}

    def flaky(messages):
        answers["n"] += 1
        return "Image A looks nicer" if answers["n"] <= 4 else "TIE"

    monkeypatch.setenv("JUDGE_TEST_KEY", "k")
    img = torch.rand(3, 8, 8)
    with server_mod.FakeOpenAIServer(chat_responder=flaky) as srv:
        judge = PairwiseJudge(
            JudgeConfig(base_url=srv.base_url, model="fake-llm", api_key_env="JUDGE_TEST_KEY", max_retries=2)
        )
        bad = judge.judge_pair("x", img, img)  # 3 malformed attempts -> invalid
        ok = judge.judge_pair("y", img, img)  # 4th malformed, 5th is TIE
        assert srv.calls["chat"] == 5
    assert not bad["valid"] and bad["attempts"] == 3 and bad["winner"] is None
    assert ok["valid"] and ok["winner"] == "tie" and ok["attempts"] == 2
    rate = win_rate([bad, ok], n_resamples=50)
    assert rate["value"] == 0.5 and rate["invalid"] == 1 and rate["n_valid"] == 1


def test_judge_unavailable_without_endpoint_or_key(monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    assert "endpoint" in PairwiseJudge(JudgeConfig()).reason()
    assert (
        "NO_SUCH_KEY_VAR"
        in PairwiseJudge(
            JudgeConfig(base_url="http://127.0.0.1:9/v1", api_key_env="NO_SUCH_KEY_VAR")
        ).reason()
    )
    assert win_rate([{"valid": False}])["status"] == "unavailable"


def test_judge_calls_go_through_the_shared_retry_path(monkeypatch):
    """Transport errors are retried by the shared client (they used to use up the malformed-answer
    budget of the judge's own loop); a quota error ends the pair at once with its reason."""
    monkeypatch.setenv("JUDGE_TEST_KEY", "k")
    img = torch.rand(3, 8, 8)
    with server_mod.FakeOpenAIServer(chat_responder=lambda m: "A", faults=["chat:429", "chat:500"]) as srv:
        cfg = JudgeConfig(base_url=srv.base_url, model="fake-llm", api_key_env="JUDGE_TEST_KEY", max_retries=1)
        judge = PairwiseJudge(cfg)
        judge.api.endpoint.policy.base_s = judge.api.endpoint.policy.cap_s = 0.01
        ok = judge.judge_pair("x", img, img)
        assert srv.calls["chat"] == 3
        srv.add_faults("chat:quota")
        broke = judge.judge_pair("y", img, img)
        assert srv.calls["chat"] == 4
    assert ok["valid"] and ok["attempts"] == 1
    assert not broke["valid"] and broke["error"] == "quota_exceeded" and broke["attempts"] == 1
