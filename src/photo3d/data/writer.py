"""Finishing a build (prompts, manifest, timings, config) and ``status``.

Output folder (the layout of :mod:`photo3d.data.layout`, plus the build's own files)::

    OUT/grid_{id}.png          edited 2x2 grid (1024x1024 at the default resolution)
    OUT/{id}/mesh.obj          the asset (+ mesh.mtl, mesh_tex*.png), TRELLIS frame (Z up)
                               (TRELLIS image-to-3D: {id}/gaussians.ply + {id}/slat.npz instead)
    OUT/renders/grid_{id}.png  the unedited render the edit was made from
    OUT/prompts.txt            line id (0-based) = object id's prompt (rewritten when rewriting)
    OUT/manifest.jsonl         one row per source sample, sorted by id (provenance, scores, cost)
    OUT/timings.jsonl          seconds per stage per sample (the only non-deterministic file)
    OUT/config.json            the resolved build config (no secrets)
    OUT/.cache/                the resumable stage cache (see photo3d.data.cache)

Ids: ``id`` is the sample's position in the source (after offset/limit), so ids are stable
across reruns and independent of failures. ``prompts.txt`` has one line for every id; a
sample that failed keeps its line but has no ``grid_{id}.png`` / ``{id}/`` (its manifest row
says ``"status": "failed"`` with the stage and reason). The original key (DiffusionDB id,
asset stem) is the manifest's ``key``.

Everything but ``timings.jsonl`` is byte-identical between an interrupted-and-resumed build
and an uninterrupted one: PNGs are encoded without metadata, JSON rows have sorted keys and
no timestamps, rows are sorted by id.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from photo3d.data.cache import StageCache, dumps
from photo3d.data.layout import MANIFEST, write_prompts
from photo3d.data.sources import Sample
from photo3d.data.stage import Stage
from photo3d.io import atomic_write_bytes, read_jsonl, write_jsonl

FINGERPRINT = "final.fingerprint"
_VOLATILE = {"seconds"}  # record fields that may differ between runs; never in the manifest


def fingerprint(stages: Sequence[Stage], samples: Sequence[Sample], cache: StageCache, extra: Any) -> str:
    """Hash of what the final files depend on: keys, per-stage done/failed sets, config."""
    h = hashlib.sha256(dumps(extra))
    h.update("\n".join(f"{s.index}\t{s.key}\t{s.prompt}" for s in samples).encode("utf-8"))
    for st in stages:
        done, failed = cache.scan(st.name)
        h.update(f"|{st.name}|{','.join(sorted(done))}|{','.join(sorted(failed))}".encode())
    return h.hexdigest()


def finalize(stages: Sequence[Stage], samples: Sequence[Sample], cache: StageCache, config: dict[str, Any],
             force: bool = False) -> bool:
    """Write ``prompts.txt``, ``manifest.jsonl``, ``timings.jsonl`` and ``config.json``.

    Skipped (returns False) when nothing changed since the last finalize: the resume of a
    finished build then costs a few directory scans.
    """
    out = cache.out
    fp = fingerprint(stages, samples, cache, config)
    fp_path = cache.root / FINGERPRINT
    if not force and fp_path.is_file() and fp_path.read_text().strip() == fp and (out / MANIFEST).is_file():
        return False
    models = {st.name: st.describe() for st in stages}
    scans = {st.name: cache.scan(st.name) for st in stages}
    rows, timings, prompts = [], [], []
    for s in samples:
        row, timing, prompt = _row(s, stages, scans, cache, models)
        rows.append(row)
        timings.append(timing)
        prompts.append(prompt)
    write_prompts(out, prompts)
    write_jsonl(out / MANIFEST, rows, encode=dumps)
    write_jsonl(out / "timings.jsonl", timings, encode=dumps)
    atomic_write_bytes(out / "config.json", json.dumps(config, indent=2, sort_keys=True).encode("utf-8") + b"\n")
    atomic_write_bytes(fp_path, fp.encode("ascii"))
    return True


def _row(s: Sample, stages: Sequence[Stage], scans, cache: StageCache, models) -> tuple[dict, dict, str]:
    row: dict[str, Any] = {"id": s.index, "key": s.key, "source": {"prompt": s.prompt, **s.meta},
                           "status": "pending", "cost_usd": 0.0, "stages": {}}
    timing: dict[str, Any] = {"id": s.index, "key": s.key}
    prompt = s.prompt
    cost = 0.0
    for st in stages:
        done, failed = scans[st.name]
        if s.key in done:
            rec = cache.load(st.name, s.key)
            timing[st.name] = rec.get("seconds")
            cost += float(rec.get("cost_usd", 0.0))
            row["stages"][st.name] = {k: v for k, v in rec.items() if k not in _VOLATILE and k != "stage"}
            if st.name == "rewrite":
                prompt = rec["prompt"]
            continue
        if s.key in failed:
            f = cache.load_failure(st.name, s.key) or {}
            cost += float(f.get("cost_usd", 0.0))
            details = {k: v for k, v in (f.get("details") or {}).items() if k != "traceback"}
            row.update(status="failed", failed_stage=st.name, reason=f.get("reason"),
                       message=f.get("message"), permanent=bool(f.get("permanent")))
            if details:
                row["failure_details"] = details
        break
    else:
        row["status"] = "ok"
    edit = row["stages"].get("edit", {})
    edit.pop("verification", None)  # kept once, at the row's top level
    row.update(prompt=prompt, cost_usd=round(cost, 6), retries=edit.get("retries"),
               verification=(edit.get("attempts") or [None])[-1], models=models,
               seeds={name: rec.get("seed") for name, rec in row["stages"].items() if "seed" in rec})
    if row["status"] == "ok":
        row["files"] = row["stages"].get("write", {}).get("files")
    return row, timing, prompt


def status(out: str | Path) -> dict[str, Any]:
    """Counts per stage, failures by reason, spend, and sample totals of a build folder."""
    cache = StageCache(out)
    if not cache.root.is_dir():
        from photo3d.errors import InputError

        raise InputError(f"{out}: not a photo3d data build folder (no .cache/); run `photo3d data build` first")
    stages: dict[str, Any] = {}
    reasons: Counter = Counter()
    for d in sorted(p for p in cache.root.iterdir() if p.is_dir()):
        done, failed = cache.scan(d.name)
        by_reason: Counter = Counter()
        for key in failed:
            f = cache.load_failure(d.name, key) or {}
            by_reason[f.get("reason", "error")] += 1
        reasons.update(by_reason)
        stages[d.name] = {"done": len(done), "failed": len(failed), "failures": dict(sorted(by_reason.items()))}
    spend: Counter = Counter()
    calls: Counter = Counter()
    for stage, _, meta in cache.iter_call_meta():
        spend[stage] += float(meta.get("cost_usd", 0.0))
        calls[stage] += 1
    totals = dict(Counter(row["status"] for row in read_jsonl(Path(out) / MANIFEST)))
    return {"out": str(out), "stages": stages, "failures_by_reason": dict(sorted(reasons.items())),
            "paid_calls": dict(calls), "spend_usd": round(sum(spend.values()), 4),
            "spend_by_stage": {k: round(v, 4) for k, v in sorted(spend.items())}, "samples": totals}


def format_status(st: dict[str, Any]) -> str:
    """Human-readable table of :func:`status`."""
    lines = [f"build: {st['out']}"]
    if st["samples"]:
        lines.append("samples: " + ", ".join(f"{k} {v}" for k, v in sorted(st["samples"].items())))
    lines.append(f"{'stage':<14}{'done':>8}{'failed':>8}  failures")
    for name, s in st["stages"].items():
        fails = ", ".join(f"{r}={n}" for r, n in s["failures"].items())
        lines.append(f"{name:<14}{s['done']:>8}{s['failed']:>8}  {fails}")
    lines.append(f"paid calls: {sum(st['paid_calls'].values())}   estimated spend: ${st['spend_usd']:.2f}")
    return "\n".join(lines)
