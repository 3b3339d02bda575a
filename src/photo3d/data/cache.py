"""The on-disk stage cache that makes every build resumable after a crash or ``kill -9``.

Layout under ``OUT/.cache/<stage>/``::

    <key>.done.json     the committed record of stage <stage> for sample <key>
    <key>.fail.json     a recorded failure (reason, message, permanent?)
    <key>/              the stage's artifacts for <key> (PNGs, meshes)
    <key>/calls/<name>.meta.json (+ <name>.png / .json)   every paid API response

Commit protocol (each step is an atomic rename, so readers see all or nothing):

1. a stage writes its artifacts into ``<key>/``;
2. every paid API response is stored under ``<key>/calls/`` the moment it arrives, data file
   first, then its ``.meta.json`` (the meta file is the call's commit marker);
3. only then is ``<key>.done.json`` written.

A rerun therefore re-executes a stage only when its ``.done.json`` is missing, and inside that
stage it reuses every call whose meta file exists: no work that finished is paid for twice.
Finding what is done is one ``os.scandir`` per stage (no per-sample JSON parsing), which keeps
the resume check of a finished 10,000-sample build well under a second.

Cache writes skip ``fsync``: a killed process cannot lose data the kernel already has, and the
final dataset files (written through :mod:`photo3d.io`) are fsync'd. Set ``fsync=True`` to also
survive power loss in the middle of a run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from photo3d.io import atomic_path
from photo3d.io.atomic import json_default
from photo3d.io.text import read_json

DONE = ".done.json"
FAIL = ".fail.json"


def write_atomic(path: Path, data: bytes, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temp file + rename (``fsync`` optional)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())
    return path


def dumps(obj: Any) -> bytes:
    """Canonical JSON bytes (sorted keys): identical inputs give identical files."""
    return (json.dumps(obj, sort_keys=True, ensure_ascii=False, default=json_default) + "\n").encode("utf-8")


class StageCache:
    """Committed records and failures of every stage, keyed by sample key.

    Args:
        out: the build's output folder; the cache lives in ``out/.cache``.
        fsync: fsync cache files before renaming them.
    """

    def __init__(self, out: str | os.PathLike, fsync: bool = False) -> None:
        self.out = Path(out)
        self.root = self.out / ".cache"
        self.fsync = fsync

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def workdir(self, stage: str, key: str) -> Path:
        """Artifact folder of ``stage`` for ``key`` (created on demand)."""
        d = self.root / stage / key
        d.mkdir(parents=True, exist_ok=True)
        return d

    def scan(self, stage: str) -> tuple[set[str], set[str]]:
        """``(done keys, failed keys)`` of one stage from a single directory listing."""
        done: set[str] = set()
        failed: set[str] = set()
        try:
            with os.scandir(self.root / stage) as it:
                for entry in it:
                    name = entry.name
                    if name.endswith(DONE):
                        done.add(name[: -len(DONE)])
                    elif name.endswith(FAIL):
                        failed.add(name[: -len(FAIL)])
        except FileNotFoundError:
            pass
        return done, failed - done

    def load(self, stage: str, key: str) -> dict[str, Any]:
        """The committed record of ``stage`` for ``key`` (a damaged one is one error line saying what to delete)."""
        path = self.root / stage / f"{key}{DONE}"
        return read_json(path, "stage record", f"delete it to redo stage {stage} of {key}")

    def load_failure(self, stage: str, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.root / stage / f"{key}{FAIL}").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def commit(self, stage: str, key: str, record: dict[str, Any]) -> None:
        """Commit a stage result (call after all its artifacts are written)."""
        d = self.root / stage
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / f"{key}{DONE}", dumps(record), self.fsync)
        (d / f"{key}{FAIL}").unlink(missing_ok=True)

    def fail(self, stage: str, key: str, failure: dict[str, Any]) -> None:
        """Record a failure (overwrites an older one)."""
        d = self.root / stage
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / f"{key}{FAIL}", dumps(failure), self.fsync)

    def clear_failure(self, stage: str, key: str) -> None:
        (self.root / stage / f"{key}{FAIL}").unlink(missing_ok=True)

    # -- paid calls -------------------------------------------------------------------------
    def call_paths(self, stage: str, key: str, name: str) -> tuple[Path, Path]:
        calls = self.root / stage / key / "calls"
        return calls / f"{name}.meta.json", calls / name

    def load_call(self, stage: str, key: str, name: str) -> tuple[dict[str, Any], bytes | None] | None:
        """A stored call ``(meta, data bytes or None)``, or ``None`` when it never completed."""
        meta_path, data_base = self.call_paths(stage, key, name)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        data = None
        if meta.get("data_file"):
            data = (data_base.parent / meta["data_file"]).read_bytes()
        return meta, data

    def store_call(self, stage: str, key: str, name: str, meta: dict[str, Any],
                   data: bytes | None = None, ext: str = ".bin") -> None:
        """Store a call's response: data first, then the meta file that commits it."""
        meta_path, data_base = self.call_paths(stage, key, name)
        meta = dict(meta)
        if data is not None:
            data_file = data_base.name + ext
            write_atomic(data_base.parent / data_file, data, self.fsync)
            meta["data_file"] = data_file
        write_atomic(meta_path, dumps(meta), self.fsync)

    def iter_call_meta(self):
        """Yield ``(stage, key, meta)`` for every stored call (used by ``status`` for spend)."""
        if not self.root.is_dir():
            return
        for stage_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for meta_path in sorted(stage_dir.glob("*/calls/*.meta.json")):
                try:
                    yield stage_dir.name, meta_path.parent.parent.name, json.loads(meta_path.read_text("utf-8"))
                except ValueError:
                    continue
