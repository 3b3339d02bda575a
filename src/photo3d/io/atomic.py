"""Atomic writes: a file appears complete under its final name, or not at all.

Everything photo3d writes goes through a temporary file in the destination folder followed by
``os.replace``, which is atomic on POSIX and Windows. A crash, Ctrl-C or ``kill -9`` therefore
never leaves a half-written PNG, GLB or JSON behind. A library that reports a failed write in its
own exception type (safetensors: ``... (os error 28)``) has it re-raised as the ``OSError`` it
wraps, so the CLI prints it as one line like any other failed write.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

# mkstemp creates files 0600; final files get the usual permissions (0666 minus the umask).
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed to ``path``.

    The temporary name keeps the final suffix so libraries that pick a format from the file
    name (PIL, trimesh) still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or "".join(path.suffixes) + ".tmp",
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except Exception as exc:
            wrapped = _wrapped_os_error(exc, path)
            if wrapped is None:
                raise
            raise wrapped from exc
        if tmp_path.exists():
            os.chmod(tmp_path, _FILE_MODE)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _wrapped_os_error(exc: Exception, path: Path) -> OSError | None:
    """The ``OSError`` a library error carries as text (``... (os error 28)``), naming ``path``."""
    if isinstance(exc, OSError):
        return None
    m = re.search(r"os error (\d+)", str(exc))
    if m is None:
        return None
    code = int(m.group(1))
    return OSError(code, os.strerror(code), str(path))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (fsync'd before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    """Write ``obj`` as JSON atomically (numpy scalars and paths are converted)."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, default=json_default) + "\n")


def json_default(obj: Any) -> Any:
    """``json.dumps`` fallback: numpy arrays/scalars and tensors via ``tolist``, paths as strings."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
