"""Pairwise realism judge: a vision-language model behind any OpenAI-compatible chat endpoint.

The paper reports a Gemini-2.5 "winning rate" (spec §5.2; prompt and pairing unknown). Our
protocol, fixed and recorded with the results:

* For each item, the two methods' images (their 2x2 rig grids) are sent as base64 PNG data URLs
  in a **seeded random order** (``seed``, item id) so position bias averages out.
* The prompt is :data:`JUDGE_PROMPT`; the answer must be exactly ``A``, ``B`` or ``TIE``, or JSON
  ``{"winner": "A"|"B"|"tie"}``. A malformed answer is asked again (``max_retries``) and then
  recorded as invalid: invalid pairs are not counted.
* Calls go through photo3d's one OpenAI client (:class:`photo3d.data.clients.OpenAIClient`), so
  rate limits, 5xx, timeouts and dropped connections are retried with the builder's backoff
  (``network_retries``), while quota, auth and unknown-model errors end the pair at once; a pair
  whose call failed is invalid, with the reason recorded.
* Win rate of method B over A = (wins_B + 0.5 * ties) / valid pairs, with a bootstrap CI.

The API key is read from the environment variable named by ``api_key_env`` and never written to
results or logs; only the variable's name is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from photo3d.eval.bootstrap import bootstrap_ci
from photo3d.eval.metrics.base import unavailable

JUDGE_PROMPT = (
    "You are judging the photorealism of two renderings of 3D objects. Image A is the first image and "
    "image B is the second image; each shows the same object from four viewpoints in a 2x2 grid. "
    "Which one looks more like a real photograph of a real object (realistic materials, lighting, fine "
    "detail, no plastic or blurry look)? Judge realism only, not the viewpoint. "
    'Answer with exactly one token: A, B or TIE. You may instead answer JSON: {"winner": "A"}.'
)


@dataclass
class JudgeConfig:
    """How the judge is called (stored with the results; no secret in it)."""

    base_url: str | None = None
    model: str = "gemini-2.5-flash"
    api_key_env: str = "OPENAI_API_KEY"
    seed: int = 0
    max_retries: int = 2  # extra answers asked for after a malformed one
    timeout_s: float = 60.0
    temperature: float = 0.0
    prompt: str = field(default=JUDGE_PROMPT)
    network_retries: int = 4  # transient transport errors retried per call (jittered backoff)

    def describe(self) -> dict:
        return asdict(self)


def parse_verdict(text: str) -> str | None:
    """``"A"``, ``"B"``, ``"tie"`` from a strict answer, or ``None`` when malformed.

    Accepted: the single token ``A``/``B``/``TIE`` (case-insensitive, optional trailing period,
    optional quotes), or a JSON object with ``"winner"`` in ``A``/``B``/``tie``.
    """
    s = (text or "").strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", s, flags=re.S)
    if fence:
        s = fence.group(1).strip()
    if s.startswith("{"):
        try:
            winner = str(json.loads(s).get("winner", "")).strip().upper()
        except (json.JSONDecodeError, AttributeError):
            return None
    else:
        winner = s.strip("\"'").rstrip(".").strip().upper()
    return {"A": "A", "B": "B", "TIE": "tie"}.get(winner)


def image_data_url(image: torch.Tensor) -> str:
    """``[3, H, W]`` in [0, 1] -> ``data:image/png;base64,...``."""
    from photo3d.io import encode_png

    return "data:image/png;base64," + base64.b64encode(encode_png(image)).decode("ascii")


def swap_for(item_id: str, seed: int) -> bool:
    """Seeded, per-item coin flip: True means method B's image is shown first."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return bool(digest[0] & 1)


class PairwiseJudge:
    """Calls the endpoint once per pair (plus retries); see the module docstring for the protocol."""

    def __init__(self, config: JudgeConfig, client=None) -> None:
        from photo3d.data.clients import Endpoint, OpenAIClient
        from photo3d.data.retry import RetryPolicy

        self.config = config
        self._injected = client is not None
        endpoint = Endpoint(base_url=config.base_url, api_key_env=config.api_key_env, timeout_s=config.timeout_s,
                            policy=RetryPolicy(max_retries=config.network_retries, base_s=1.0, cap_s=30.0))
        self.api = OpenAIClient(endpoint, client=client)

    def reason(self) -> str | None:
        """``None`` when the judge can run, else why not."""
        if self._injected:
            return None
        if not self.config.base_url:
            return "no judge endpoint configured (--judge-url, an OpenAI-compatible chat API)"
        if not os.environ.get(self.config.api_key_env):
            return f"environment variable {self.config.api_key_env} (the judge API key) is not set"
        return None

    def client(self):
        """The underlying ``openai.OpenAI`` client (created on first use)."""
        return self.api.client

    def judge_pair(self, item_id: str, image_a: torch.Tensor, image_b: torch.Tensor) -> dict:
        """Judge one pair; returns ``{"id", "winner": "A"|"B"|"tie"|None, "valid", "b_first", "attempts", "raw"}``.

        ``winner`` is in terms of the *methods* (A = first method), already un-swapped.
        """
        b_first = swap_for(item_id, self.config.seed)
        first, second = (image_b, image_a) if b_first else (image_a, image_b)
        messages = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": self.config.prompt},
                    {"type": "image_url", "image_url": {"url": image_data_url(first)}},
                    {"type": "image_url", "image_url": {"url": image_data_url(second)}},
                ],
            }
        ]
        from photo3d.data.stage import StageFailure

        raws = []
        for attempt in range(1, self.config.max_retries + 2):
            try:
                text = self.api.chat(self.config.model, messages, self.config.temperature, max_tokens=None,
                                     seed=self.config.seed)
            except StageFailure as exc:  # retried already where retrying helps; the pair is invalid
                raws.append(f"<error {exc.reason}: {exc.message}>"[:200])
                return {"id": item_id, "winner": None, "valid": False, "b_first": b_first,
                        "attempts": attempt, "raw": raws, "error": exc.reason}
            raws.append(text[:200])
            verdict = parse_verdict(text)
            if verdict is not None:
                if verdict != "tie" and b_first:
                    verdict = "A" if verdict == "B" else "B"
                return {
                    "id": item_id,
                    "winner": verdict,
                    "valid": True,
                    "b_first": b_first,
                    "attempts": attempt,
                    "raw": raws,
                }
        return {
            "id": item_id,
            "winner": None,
            "valid": False,
            "b_first": b_first,
            "attempts": len(raws),
            "raw": raws,
        }


def win_rate(verdicts: list[dict], n_resamples: int = 1000, seed: int = 0) -> dict:
    """Win rate of method B over A from :meth:`PairwiseJudge.judge_pair` records.

    Returns:
        ``{"value", "ci_low", "ci_high", "wins_a", "wins_b", "ties", "invalid", "n_valid"}`` or an
        unavailable record when no pair is valid.
    """
    valid = [v for v in verdicts if v.get("valid")]
    counts = {
        "wins_a": sum(v["winner"] == "A" for v in valid),
        "wins_b": sum(v["winner"] == "B" for v in valid),
        "ties": sum(v["winner"] == "tie" for v in valid),
        "invalid": len(verdicts) - len(valid),
        "n_valid": len(valid),
    }
    if not valid:
        return {**unavailable("no valid judge verdicts"), **counts}
    scores = np.array([{"A": 0.0, "B": 1.0, "tie": 0.5}[v["winner"]] for v in valid])
    return {**bootstrap_ci(scores, n_resamples=n_resamples, seed=seed), **counts}
