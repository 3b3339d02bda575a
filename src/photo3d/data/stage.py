"""The stage contract: a named unit of work per sample, ignorant of how it is scheduled.

A :class:`Stage` reads the committed records of the stages it lists in ``inputs`` and returns
its own record (a JSON dict; artifact paths inside it are relative to the output folder). The
executors (:mod:`photo3d.data.executors`) decide where and how many run at once; the function
:func:`run_stage` is what every executor calls for one (stage, sample) pair: it runs the stage,
commits the record to the :class:`~photo3d.data.cache.StageCache` and returns a small outcome.

Heavy models are loaded in :meth:`Stage.setup` (once per worker process), never in
``__init__``, so stages are cheap to construct and to pickle for Ray.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photo3d.data.cache import StageCache
from photo3d.data.sources import Sample


class StageFailure(Exception):
    """A sample cannot pass a stage; recorded with its reason, never stops the run.

    Args:
        reason: short machine-readable code (``content_policy``, ``rate_limited``,
            ``verification_failed``, ``model_not_found``, ``missing_api_key`` ...).
        message: one human line (never contains secrets).
        permanent: True when rerunning cannot help without changing inputs (a content-policy
            refusal, a rejected edit); reruns skip such samples unless ``retry_failed``.
        details: JSON-able facts kept with the failure (e.g. verification scores).
    """

    def __init__(self, reason: str, message: str = "", permanent: bool = False,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
        self.message = message
        self.permanent = permanent
        self.details = details or {}


def stable_seed(*parts: Any) -> int:
    """A 31-bit seed from any values (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass
class StageContext:
    """What a stage sees for one sample.

    Attributes:
        sample: the source sample.
        records: committed records of earlier stages, by stage name.
        cache: the build's cache (artifacts go to ``workdir``).
        stage: this stage's name.
        seed: this (stage, sample)'s seed, derived from the build seed and the key.
        cost_usd: accumulated estimated spend of this stage for this sample (paid calls).
        calls: names of the calls this stage made or reused, in order.
    """

    sample: Sample
    records: dict[str, dict[str, Any]]
    cache: StageCache
    stage: str
    seed: int
    cost_usd: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.cache.out

    @property
    def workdir(self) -> Path:
        """Folder for this stage's artifacts of this sample."""
        return self.cache.workdir(self.stage, self.sample.key)

    def rel(self, path: Path) -> str:
        """``path`` relative to the output folder (records never hold absolute paths)."""
        return Path(path).relative_to(self.cache.out).as_posix()

    def path(self, rel: str) -> Path:
        """Resolve a record's relative path."""
        return self.cache.out / rel

    def paid_call(self, name: str, fn: Callable[[], tuple[dict[str, Any], bytes | None]],
                  ext: str = ".bin") -> tuple[dict[str, Any], bytes | None]:
        """Run a paid call once per (stage, sample, name), storing its response first.

        ``fn`` returns ``(meta, data)``; ``meta`` must hold ``cost_usd``. A stored response is
        returned without calling ``fn`` (the resume path); either way the cost is counted once
        in ``cost_usd`` so that the manifest shows the same spend for a resumed run.
        """
        stored = self.cache.load_call(self.stage, self.sample.key, name)
        if stored is None:
            meta, data = fn()
            self.cache.store_call(self.stage, self.sample.key, name, meta, data, ext)
            stored = self.cache.load_call(self.stage, self.sample.key, name)
            assert stored is not None
        meta, data = stored
        self.cost_usd += float(meta.get("cost_usd", 0.0))
        self.calls.append({"name": name, "model": meta.get("model"), "cost_usd": meta.get("cost_usd", 0.0)})
        return meta, data


class Stage:
    """Base class of a builder stage.

    Subclasses set ``name``, ``kind`` (``"api"``: many concurrent network calls; ``"cpu"``;
    ``"gpu"``: one model per worker), ``inputs`` (stage names whose records they read) and
    ``outputs`` (record fields they write), and implement :meth:`process`.
    """

    name: str = "stage"
    kind: str = "cpu"
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    default_concurrency: int | None = None

    def setup(self) -> None:
        """Load models / open clients (called once per worker before the first sample)."""

    def process(self, ctx: StageContext) -> dict[str, Any]:  # pragma: no cover - abstract
        """Compute this stage for ``ctx.sample`` and return its record."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Backend / model / version facts recorded in the manifest."""
        return {}

    def concurrency(self, overrides: dict[str, int]) -> int:
        """How many samples of this stage may run at once."""
        if self.name in overrides:
            return max(1, int(overrides[self.name]))
        if self.default_concurrency:
            return self.default_concurrency
        return {"api": 16, "cpu": 2, "gpu": 1}.get(self.kind, 1)


@dataclass
class Outcome:
    """What an executor gets back for one (stage, sample): small and picklable."""

    stage: str
    key: str
    ok: bool
    seconds: float
    record: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None


def run_stage(stage: Stage, sample: Sample, cache: StageCache, build_seed: int,
              on_error: str = "record", secrets: tuple[str, ...] = ()) -> Outcome:
    """Run ``stage`` on ``sample``, commit the result or the failure, and return the outcome.

    Args:
        on_error: ``"record"`` turns unexpected exceptions into failures (large runs);
            ``"raise"`` re-raises them (tests, debugging).
        secrets: strings scrubbed from failure messages (API keys).
    """
    t0 = time.perf_counter()
    records = {name: cache.load(name, sample.key) for name in stage.inputs}
    ctx = StageContext(sample, records, cache, stage.name, stable_seed(build_seed, stage.name, sample.key))
    try:
        record = dict(stage.process(ctx))
        record.setdefault("cost_usd", round(ctx.cost_usd, 6))
        record.setdefault("calls", ctx.calls)
        record["stage"] = stage.name
        record["seconds"] = round(time.perf_counter() - t0, 4)
        cache.commit(stage.name, sample.key, record)
        return Outcome(stage.name, sample.key, True, record["seconds"], record=record)
    except StageFailure as exc:
        failure = {"reason": exc.reason, "message": scrub(exc.message, secrets), "permanent": exc.permanent,
                   "details": exc.details, "cost_usd": round(ctx.cost_usd, 6), "calls": ctx.calls}
    except Exception as exc:
        if on_error == "raise":
            raise
        failure = {"reason": "error", "message": scrub(f"{type(exc).__name__}: {exc}", secrets),
                   "permanent": False, "details": {"traceback": scrub(traceback.format_exc(limit=5), secrets)},
                   "cost_usd": round(ctx.cost_usd, 6), "calls": ctx.calls}
    failure["stage"] = stage.name
    cache.fail(stage.name, sample.key, failure)
    return Outcome(stage.name, sample.key, False, round(time.perf_counter() - t0, 4), failure=failure)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret (and any ``sk-...`` looking token) in ``text``."""
    import re

    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return re.sub(r"sk-[A-Za-z0-9_\-]{8,}", "sk-***", text)
