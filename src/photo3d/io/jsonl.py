"""JSON-lines files: the one reader and writer of ``*.jsonl`` (results, manifests, logs).

* :func:`read_jsonl`: all rows; a malformed line is one error naming ``file:line``. The last line
  of a file that was being appended to when a process died may be cut short: it is dropped
  (``torn_tail="drop"``, the default for append-only logs) instead of failing the read.
* :func:`append_jsonl`: add rows at the end, O(rows) however long the file already is; a torn last
  line left by a crash is cut off first, so the file stays one complete row per line.
* :func:`write_jsonl`: replace the whole file atomically (temporary file + rename).

Torch-free.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from photo3d.errors import InputError
from photo3d.io.atomic import atomic_write_bytes, json_default
from photo3d.io.text import read_text


def dumps_line(row: Any) -> bytes:
    """One row as a JSON line (UTF-8, ``\\n``-terminated)."""
    return (json.dumps(row, default=json_default) + "\n").encode("utf-8")


def read_jsonl(path: str | os.PathLike, missing_ok: bool = True, torn_tail: str = "drop") -> list[Any]:
    """Every row of a JSON-lines file (blank lines skipped).

    Args:
        path: the file.
        missing_ok: a missing file reads as no rows (else :class:`InputError`).
        torn_tail: ``"drop"`` ignores an unterminated, unparsable last line (a crash mid-append);
            ``"error"`` reports it like any other bad line.

    Raises:
        InputError: ``file:line: not JSON (...)`` for a malformed line, ``file:line: not UTF-8
            text`` for bytes that are not text (see :func:`photo3d.io.text.read_text`).
    """
    path = Path(path)
    if not path.exists():
        if missing_ok:
            return []
        raise InputError(f"{path}: no such file")
    text = read_text(path, "JSON-lines file")
    lines = text.split("\n")
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if n == len(lines) and not text.endswith("\n") and torn_tail == "drop":
                break  # the unfinished row of an interrupted append
            raise InputError(f"{path}:{n}: not JSON ({exc.msg}); fix or delete the line") from exc
    return rows


def append_jsonl(path: str | os.PathLike, rows: Iterable[Any], encode: Callable[[Any], bytes] = dumps_line) -> Path:
    """Append ``rows`` (flushed and fsync'd), first cutting off a torn last line if there is one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(encode(r) for r in rows)
    with open(path, "a+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":  # a crash mid-append: drop the partial row
                fh.seek(0)
                keep = fh.read().rfind(b"\n") + 1
                fh.truncate(keep)
                fh.seek(keep)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any], encode: Callable[[Any], bytes] = dumps_line) -> Path:
    """Write ``rows`` as the whole file, atomically."""
    return atomic_write_bytes(path, b"".join(encode(r) for r in rows))
