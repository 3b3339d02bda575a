"""OpenAI-compatible endpoints (chat, image generation, image editing) through the ``openai`` client.

Any server speaking the OpenAI REST API works (api.openai.com, vLLM, LM Studio, a gateway,
or :class:`photo3d.testing.openai_server.FakeOpenAIServer`): set ``base_url``. The API key is
read from the environment variable named in the config (``OPENAI_API_KEY`` by default) when
the client is created; it is never written to records, logs or manifests.

The client's own retries are switched off (``max_retries=0``): :mod:`photo3d.data.retry`
retries instead, so that every wait, reason and attempt is ours to record and bound. This is the
one OpenAI client of photo3d: the builder's stages and the evaluation's VLM judge
(:mod:`photo3d.eval.judge`) call through it. Which parameters a model takes comes from
:mod:`photo3d.data.api_models`; a chat endpoint that still refuses ``max_tokens`` or a
``temperature`` (HTTP 400 ``unsupported_parameter`` / ``unsupported_value``) is asked once more
without it (``max_completion_tokens`` instead of ``max_tokens``).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

from photo3d._optional import require
from photo3d.data.api_models import chat_parameters, edit_parameters
from photo3d.data.retry import BadResponse, RetryPolicy, call_with_retries
from photo3d.data.stage import StageFailure


@dataclass
class Endpoint:
    """Where and how to call: base URL, key variable name, timeout, retry policy, prices."""

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    prices: dict[str, float] = field(default_factory=dict)
    default_price: float = 0.0

    @classmethod
    def from_config(cls, api, base_url: str | None = None, api_key_env: str | None = None) -> Endpoint:
        """Build from :class:`~photo3d.data.config.ApiConfig` plus a stage's overrides."""
        return cls(base_url=base_url or api.base_url, api_key_env=api_key_env or api.api_key_env,
                   timeout_s=api.timeout_s,
                   policy=RetryPolicy(api.max_retries, api.backoff_base_s, api.backoff_cap_s, api.max_retry_after_s),
                   prices=dict(api.prices), default_price=api.default_price)

    def price(self, model: str) -> float:
        """Estimated USD of one call to ``model``."""
        return float(self.prices.get(model, self.default_price))

    def api_key(self) -> str:
        """The key from the environment, or a :class:`StageFailure` ``missing_api_key``."""
        key = os.environ.get(self.api_key_env, "")
        if not key:
            raise StageFailure("missing_api_key", f"set the environment variable {self.api_key_env}")
        return key


class OpenAIClient:
    """A lazily created ``openai.OpenAI`` client plus retrying chat / image calls.

    Thread-safe: one instance serves all threads of a stage.

    Args:
        endpoint: where and how to call.
        client: a ready ``openai.OpenAI``-like client (tests); by default one is created on first use.
    """

    def __init__(self, endpoint: Endpoint, client: Any = None) -> None:
        self.endpoint = endpoint
        self._client = client

    def __getstate__(self) -> dict[str, Any]:  # clients are rebuilt in each (Ray) worker
        return {"endpoint": self.endpoint, "_client": None}

    @property
    def client(self):
        if self._client is None:
            openai = require("openai", "OpenAI-compatible endpoints")
            self._client = openai.OpenAI(api_key=self.endpoint.api_key(), base_url=self.endpoint.base_url,
                                         timeout=self.endpoint.timeout_s, max_retries=0)
        return self._client

    def _retrying(self, fn, seed: int, log: list | None):
        def guarded():
            client = self.client  # raises missing_api_key (not retried)
            try:
                return fn(client)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                raise BadResponse(f"unusable response ({type(exc).__name__})") from exc
            except Exception as exc:
                openai = require("openai")
                if isinstance(exc, openai.APIResponseValidationError):
                    raise BadResponse("response did not match the API schema") from exc
                raise

        return call_with_retries(guarded, self.endpoint.policy, seed=seed, log=log)

    def chat(self, model: str, messages: list[dict[str, Any]], temperature: float = 0.0,
             max_tokens: int | None = 256, seed: int = 0, log: list | None = None) -> str:
        """One chat completion; returns the assistant's text.

        Args:
            model: the endpoint's model id.
            messages: chat messages (text, or content parts with images).
            temperature: sampling temperature (not sent to reasoning models, which take only 1).
            max_tokens: answer length cap (``max_completion_tokens`` for reasoning models); ``None``: none.
            seed: request seed and retry-jitter seed.
            log: receives one record per retried error.
        """
        params = chat_parameters(model, temperature, max_tokens)

        def call(client):
            for _ in range(3):  # at most max_tokens and temperature can be refused
                try:
                    resp = client.chat.completions.create(model=model, messages=messages, seed=seed, **params)
                    break
                except Exception as exc:
                    if not _drop_refused_parameter(exc, params):
                        raise
            text = resp.choices[0].message.content
            if not isinstance(text, str) or not text.strip():
                raise BadResponse("empty chat answer")
            return text.strip()

        return self._retrying(call, seed, log)

    def generate_image(self, model: str, prompt: str, size: str | None = None, seed: int = 0,
                       log: list | None = None) -> bytes:
        """``images.generate``; returns validated PNG bytes."""

        def call(client):
            kwargs: dict[str, Any] = {"model": model, "prompt": prompt, "n": 1}
            if size:
                kwargs["size"] = size
            return _image_bytes(client.images.generate(**kwargs))

        return self._retrying(call, seed, log)

    def edit_image(self, model: str, image_png: bytes, prompt: str, size: str | None = None,
                   quality: str | None = None, seed: int = 0, log: list | None = None,
                   input_fidelity: str = "auto") -> bytes:
        """``images.edit`` of one PNG (multipart upload); returns validated PNG bytes.

        Only parameters ``model`` takes are sent (:func:`~photo3d.data.api_models.edit_parameters`):
        ``input_fidelity="auto"`` is the highest the model accepts, omitted when it takes none.
        """
        options = edit_parameters(model, size, quality, input_fidelity)

        def call(client):
            return _image_bytes(client.images.edit(model=model, prompt=prompt,
                                                   image=("grid.png", image_png, "image/png"), **options))

        return self._retrying(call, seed, log)


def _drop_refused_parameter(exc: Exception, params: dict) -> bool:
    """Adapt ``params`` in place to a 400 that names a refused sampling parameter; True if changed."""
    try:
        import openai
    except ImportError:  # pragma: no cover - the call itself needs openai
        return False
    if not isinstance(exc, openai.BadRequestError):
        return False
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    if err.get("code") not in ("unsupported_parameter", "unsupported_value"):
        return False
    param = err.get("param")
    if param == "max_tokens" and "max_tokens" in params:
        params["max_completion_tokens"] = params.pop("max_tokens")
        return True
    if param == "temperature" and "temperature" in params:
        del params["temperature"]
        return True
    return False


def _image_bytes(resp: Any) -> bytes:
    """The first image of an ``ImagesResponse`` as PNG bytes, after checking it decodes fully."""
    item = resp.data[0]
    raw = None
    if getattr(item, "b64_json", None):
        try:
            raw = base64.b64decode(item.b64_json, validate=False)
        except ValueError as exc:
            raise BadResponse("b64_json is not base64") from exc
    elif getattr(item, "url", None):
        httpx = require("httpx", "downloading image URLs")
        r = httpx.get(item.url, timeout=120.0)
        r.raise_for_status()
        raw = r.content
    if not raw:
        raise BadResponse("no image in the response")
    return validate_image(raw)


def validate_image(raw: bytes) -> bytes:
    """Decode ``raw`` completely (catching truncated/non-image bodies); return PNG bytes."""
    from photo3d.errors import UnreadableImageError
    from photo3d.io import as_png

    try:
        return as_png(raw, "response")
    except UnreadableImageError as exc:
        raise BadResponse(f"not a complete image ({exc.reason.split(':')[0]})") from exc
