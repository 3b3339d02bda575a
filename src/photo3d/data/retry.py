"""Retrying network calls: classify an error, back off (jittered, capped, Retry-After aware).

Every error of an OpenAI-compatible endpoint maps to a reason code:

=====================  =========  ==========================================================
reason                 retried?   cause
=====================  =========  ==========================================================
rate_limited           yes        HTTP 429 (waits ``Retry-After`` in seconds or as an HTTP date,
                                  or ``retry-after-ms``)
quota_exceeded         no         HTTP 429 with code ``insufficient_quota`` (billing: waiting
                                  does not help)
server_error           yes        HTTP 5xx
timeout                yes        no answer within the client timeout
connection_error       yes        refused / dropped connection
bad_response           yes        body is not a (complete) image / not the expected JSON
content_policy         no         HTTP 400 with code ``content_policy_violation`` (permanent)
model_not_found        no         HTTP 404 (a model id that does not exist)
auth_error             no         HTTP 401/403
missing_api_key        no         the key's environment variable is unset
bad_request            no         any other 4xx
=====================  =========  ==========================================================

A call that exhausts its retries, or hits a non-retried error, raises
:class:`~photo3d.data.stage.StageFailure` with that reason; the run goes on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from photo3d.data.stage import StageFailure

T = TypeVar("T")
RETRYABLE = {"rate_limited", "server_error", "timeout", "connection_error", "bad_response"}


class BadResponse(Exception):
    """The endpoint answered 200 but the body is unusable (not an image, truncated, no choices)."""


@dataclass
class RetryPolicy:
    """Backoff settings (seconds)."""

    max_retries: int = 6
    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 300.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        backoff = min(self.cap_s, self.base_s * (2 ** attempt))
        jittered = backoff * (0.5 + 0.5 * rng.random())  # "equal jitter": spread, never near zero
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        return jittered


def classify(exc: BaseException) -> tuple[str, bool, float | None, str]:
    """``(reason, retryable, retry_after seconds or None, message)`` for an exception."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is needed for API stages anyway
        openai = None
    if isinstance(exc, BadResponse):
        return "bad_response", True, None, str(exc)
    if isinstance(exc, StageFailure):
        return exc.reason, exc.reason in RETRYABLE, None, exc.message
    if openai is not None:
        if isinstance(exc, openai.APITimeoutError):
            return "timeout", True, None, "no answer within the timeout"
        if isinstance(exc, openai.APIConnectionError):
            return "connection_error", True, None, f"connection failed ({type(exc.__cause__).__name__ if exc.__cause__ else 'no detail'})"
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            code = _error_code(exc)
            msg = f"HTTP {status}" + (f" {code}" if code else "")
            if status == 429 and code == "insufficient_quota":
                return "quota_exceeded", False, None, msg + " (add credit or raise the quota; not retried)"
            if status == 429:
                return "rate_limited", True, _retry_after(exc), msg
            if status >= 500:
                return "server_error", True, _retry_after(exc), msg
            if status == 400 and code in ("content_policy_violation", "moderation_blocked"):
                return "content_policy", False, None, msg
            if status == 404:
                return "model_not_found", False, None, msg
            if status in (401, 403):
                return "auth_error", False, None, msg
            return "bad_request", False, None, msg
        if isinstance(exc, openai.OpenAIError) and "api_key" in str(exc).lower():
            return "missing_api_key", False, None, "no API key"
    return "error", False, None, f"{type(exc).__name__}: {exc}"


def _error_code(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return err.get("code") or err.get("type")
    return getattr(exc, "code", None)


def _retry_after(exc: Any, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) * 1e-3
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return retry_after_date(value, now)


def retry_after_date(value: str, now: float | None = None) -> float | None:
    """Seconds until an HTTP-date ``Retry-After`` (RFC 9110, e.g. ``Wed, 21 Oct 2026 07:28:00 GMT``).

    Returns ``None`` for an unparseable value; a date in the past gives 0.
    """
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, seed: int = 0,
                      sleep: Callable[[float], None] = time.sleep, log: list | None = None) -> T:
    """Call ``fn`` until it succeeds, retrying transient errors.

    Args:
        fn: the call.
        policy: backoff settings.
        seed: seeds the jitter (reproducible waits per sample).
        sleep: injectable for tests.
        log: if given, receives one ``{"reason", "wait_s"}`` dict per retried error.

    Raises:
        StageFailure: with the reason of the last error when the call cannot succeed.
    """
    rng = random.Random(seed)
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            reason, retryable, retry_after, message = classify(exc)
            if not retryable or attempt >= policy.max_retries:
                suffix = f" (after {attempt + 1} attempts)" if retryable else ""
                raise StageFailure(reason, message + suffix, permanent=reason == "content_policy") from exc
            if retry_after is not None and retry_after > policy.max_retry_after_s:
                raise StageFailure(reason, f"{message}; Retry-After {retry_after:.0f}s exceeds the limit") from exc
            wait = policy.delay(attempt, retry_after, rng)
            if log is not None:
                log.append({"reason": reason, "wait_s": round(wait, 3)})
            sleep(wait)
            attempt += 1
