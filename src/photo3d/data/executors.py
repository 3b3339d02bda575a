"""Executors: how (stage, sample) work items are scheduled. Stages never know which one runs them.

Both executors share :func:`drive`: every sample walks the stage list in order; a sample's
next stage is submitted as soon as its previous one commits, so stages overlap (pipelining)
while each stage runs at most ``concurrency`` samples at once. What is already committed in
the cache is skipped (resume), and permanent failures stay failed unless ``retry_failed``.

* :class:`LocalExecutor`: one thread pool per stage. API stages run many concurrent calls
  (default 16 threads); CPU stages default to 2 workers, GPU stages to 1 (torch releases the
  GIL inside its kernels, so threads are enough for one machine).
* :class:`RayExecutor` (optional ``ray`` extra): one Ray actor pool per stage (threaded actors
  for API stages; ``num_gpus=1`` actors for GPU stages), for multi-machine runs. Every node
  must see the same output folder (shared filesystem) and the API key variable. Same output.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from photo3d.data.cache import StageCache
from photo3d.data.sources import Sample
from photo3d.data.stage import Outcome, Stage, run_stage


@dataclass
class RunStats:
    """What one executor run did."""

    finished: int = 0  # samples that committed every stage (this run or before)
    skipped: int = 0  # samples already finished before the run
    failed: Counter = field(default_factory=Counter)  # reason -> count (this run and carried over)
    ran: Counter = field(default_factory=Counter)  # stage -> (stage, sample) items executed now
    cost_usd: float = 0.0  # spend of the stage results committed or failed in this run


def plan(stages: Sequence[Stage], samples: Sequence[Sample], cache: StageCache,
         retry_failed: bool = False) -> tuple[list[tuple[Sample, int]], RunStats]:
    """Where each sample resumes: ``[(sample, first stage index to run)]`` plus carried stats.

    One directory scan per stage; failure files are read only for failed samples.
    """
    scans = {st.name: cache.scan(st.name) for st in stages}
    todo: list[tuple[Sample, int]] = []
    stats = RunStats()
    for sample in samples:
        start = None
        for i, st in enumerate(stages):
            done, failed = scans[st.name]
            if sample.key in done:
                continue
            if sample.key in failed and not retry_failed:
                f = cache.load_failure(st.name, sample.key) or {}
                if f.get("permanent"):
                    stats.failed[f.get("reason", "error")] += 1
                    start = -1
                    break
            start = i
            break
        if start is None:
            stats.finished += 1
            stats.skipped += 1
        elif start >= 0:
            todo.append((sample, start))
    return todo, stats


def drive(stages: Sequence[Stage], todo: list[tuple[Sample, int]], stats: RunStats,
          submit: Callable[[int, Sample], Future], limits: Sequence[int], progress: bool = True,
          total: int | None = None) -> RunStats:
    """Run ``todo`` through ``stages`` with at most ``limits[i]`` items of stage ``i`` in flight."""
    pending: list[deque] = [deque() for _ in stages]
    for sample, start in todo:
        pending[start].append(sample)
    inflight = [0] * len(stages)
    done_q: queue.Queue = queue.Queue()
    active = 0
    bar = _bar(progress, total or (len(todo) + stats.finished), stats.finished)

    def fill() -> int:
        n = 0
        for i in reversed(range(len(stages))):  # later stages first: finish samples early
            while pending[i] and inflight[i] < limits[i]:
                sample = pending[i].popleft()
                fut = submit(i, sample)
                fut.add_done_callback(lambda f, i=i, s=sample: done_q.put((i, s, f)))
                inflight[i] += 1
                n += 1
        return n

    active += fill()
    while active:
        i, sample, fut = done_q.get()
        active -= 1
        inflight[i] -= 1
        outcome: Outcome = fut.result()  # errors inside run_stage are outcomes; this raises only on bugs
        stats.ran[stages[i].name] += 1
        rec = outcome.record if outcome.ok else outcome.failure
        stats.cost_usd += float((rec or {}).get("cost_usd", 0.0))
        if not outcome.ok:
            stats.failed[outcome.failure["reason"]] += 1
            bar.update(1)
        elif i + 1 < len(stages):
            pending[i + 1].append(sample)
        else:
            stats.finished += 1
            bar.update(1)
        bar.set_postfix(failed=sum(stats.failed.values()), spend=f"${stats.cost_usd:.2f}", refresh=False)
        active += fill()
    bar.close()
    return stats


def _bar(enabled: bool, total: int, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="photo3d data build", unit="sample", disable=not enabled,
                dynamic_ncols=True)


class LocalExecutor:
    """Threads on this machine: one bounded pool per stage.

    Args:
        concurrency: per-stage overrides (stage name -> workers).
        on_error: ``"record"`` (failures become records) or ``"raise"`` (tests, debugging).
        progress: show a tqdm bar.
    """

    def __init__(self, concurrency: dict[str, int] | None = None, on_error: str = "record",
                 progress: bool = True) -> None:
        self.concurrency = dict(concurrency or {})
        self.on_error, self.progress = on_error, progress

    def run(self, stages: Sequence[Stage], todo: list[tuple[Sample, int]], stats: RunStats, cache: StageCache,
            seed: int, secrets: tuple[str, ...] = (), total: int | None = None) -> RunStats:
        limits = [st.concurrency(self.concurrency) for st in stages]
        needed = {start for _, start in todo}
        first = min(needed) if needed else len(stages)
        for st in stages[first:]:
            st.setup()  # load models once, before threads share them
        pools = [ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"p3d-{st.name}") for st, n in zip(stages, limits)]
        try:
            def submit(i: int, sample: Sample) -> Future:
                return pools[i].submit(run_stage, stages[i], sample, cache, seed, self.on_error, secrets)

            return drive(stages, todo, stats, submit, limits, self.progress, total)
        finally:
            for p in pools:
                p.shutdown(wait=True, cancel_futures=True)


class _StageActor:
    """Ray actor body: holds one stage (set up once) and runs samples of it."""

    def __init__(self, stage: Stage, out: str, fsync: bool, seed: int, on_error: str, secrets: tuple[str, ...]) -> None:
        self.stage, self.cache = stage, StageCache(out, fsync)
        self.seed, self.on_error, self.secrets = seed, on_error, secrets
        self._lock = threading.Lock()
        self._ready = False

    def run(self, sample: Sample) -> Outcome:
        with self._lock:
            if not self._ready:
                self.stage.setup()
                self._ready = True
        return run_stage(self.stage, sample, self.cache, self.seed, self.on_error, self.secrets)


class RayExecutor:
    """Ray actors per stage (multi-machine). Output is identical to :class:`LocalExecutor`'s.

    Args:
        concurrency: per-stage overrides (stage name -> samples in flight).
        address: a cluster address (``"auto"``, ``"ray://..."``); ``None`` starts a local one.
        num_cpus: CPUs of a locally started cluster.
        stage_resources: per-stage Ray resources (e.g. ``{"render": {"num_cpus": 1}}``);
            defaults: GPU stages ``num_gpus=1``, others none (API stages are I/O bound).
    """

    def __init__(self, concurrency: dict[str, int] | None = None, address: str | None = None,
                 num_cpus: int | None = None, stage_resources: dict[str, dict[str, Any]] | None = None,
                 on_error: str = "record", progress: bool = True) -> None:
        self.concurrency = dict(concurrency or {})
        self.address, self.num_cpus = address, num_cpus
        self.stage_resources = dict(stage_resources or {})
        self.on_error, self.progress = on_error, progress

    def run(self, stages: Sequence[Stage], todo: list[tuple[Sample, int]], stats: RunStats, cache: StageCache,
            seed: int, secrets: tuple[str, ...] = (), total: int | None = None) -> RunStats:
        from photo3d._optional import require

        ray = require("ray", "the Ray executor")
        if not ray.is_initialized():
            ray.init(address=self.address, num_cpus=self.num_cpus, include_dashboard=False,
                     log_to_driver=False, ignore_reinit_error=True)
        limits = [st.concurrency(self.concurrency) for st in stages]
        needed = {start for _, start in todo}
        first = min(needed) if needed else len(stages)
        actor_cls = ray.remote(_StageActor)
        pools: list[list[Any]] = []
        for i, st in enumerate(stages):
            if i < first:
                pools.append([])
                continue
            res = self.stage_resources.get(st.name, {"num_gpus": 1} if st.kind == "gpu" else {"num_cpus": 0})
            if st.kind == "api":  # one threaded actor serves all concurrent calls
                actors = [actor_cls.options(max_concurrency=limits[i], **res).remote(
                    st, str(cache.out), cache.fsync, seed, self.on_error, secrets)]
            else:
                actors = [actor_cls.options(**res).remote(st, str(cache.out), cache.fsync, seed, self.on_error, secrets)
                          for _ in range(limits[i])]
            pools.append(actors)
        turn = Counter()

        def submit(i: int, sample: Sample) -> Future:
            actors = pools[i]
            actor = actors[turn[i] % len(actors)]
            turn[i] += 1
            return actor.run.remote(sample).future()

        try:
            return drive(stages, todo, stats, submit, limits, self.progress, total)
        finally:
            for actors in pools:
                for a in actors:
                    ray.kill(a)
