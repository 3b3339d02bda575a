"""Exclusive locks on output folders: one run writes into a folder at a time.

A lock is ``flock(LOCK_EX | LOCK_NB)`` on a small lock file (``OUT/.photo3d.lock`` for a folder,
``.NAME.photo3d.lock`` beside a single output file). The kernel drops an ``flock`` lock when its
holder exits in any way, ``kill -9`` included, so a stale lock file never blocks a rerun. The
holder writes its pid, command line, host and start time into the file; a second run reads them
and stops with one line::

    photo3d enhance: error: out/: in use by pid 4242 (photo3d enhance a.glb -r g.png -o out) on host1
    since 2026-12-01 22:14:03; wait for it to finish or choose another output

The lock file is removed on release. A run that opened the file just before it was removed would
otherwise lock a file nobody else can see, so :meth:`FolderLock.acquire` checks after locking that
the path still names the file it locked, and retries when it does not.

Locks are re-entrant within one thread (the CLI takes the lock before any work; the library entry
point it calls takes it again), and refuse other threads of the same process. POSIX only: where
``fcntl`` is missing (Windows) locking is a no-op. Torch-free.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import threading
from pathlib import Path

from photo3d.errors import Photo3DError

LOCK_NAME = ".photo3d.lock"

_HELD: dict[str, tuple[int, int, int, str]] = {}  # lock path -> (descriptor, owner thread, depth, command)
_GUARD = threading.Lock()


class OutputLockedError(Photo3DError):
    """Another run holds the lock of the output folder (or file) this run would write."""


def lock_path_for(target: str | os.PathLike, kind: str = "dir") -> Path:
    """Where the lock file of ``target`` lives: inside a folder, beside a file."""
    target = Path(target)
    return target / LOCK_NAME if kind == "dir" else target.parent / f".{target.name}{LOCK_NAME}"


def command_line() -> str:
    """The running command as typed (``photo3d enhance ...``), for lock files and records."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("photo3d", "__main__.py", "-c"):
        argv[0] = "photo3d"
    return " ".join(argv) if argv else "python"


class FolderLock:
    """An exclusive, kill-safe lock on an output folder or file (see module docs).

    Args:
        target: the output folder (or file).
        kind: ``"dir"`` or ``"file"``.
        command: what holds it, written into the lock file (default: this command line).
    """

    def __init__(self, target: str | os.PathLike, kind: str = "dir", command: str | None = None) -> None:
        self.target = Path(target)
        self.path = lock_path_for(self.target, kind)
        self.command = command or command_line()
        self._key: str | None = None
        self.fresh = False  # this acquire took the kernel lock (not joined an outer holder)

    @property
    def held(self) -> bool:
        """True between :meth:`acquire` and :meth:`release`."""
        return self._key is not None

    def acquire(self) -> "FolderLock":
        """Take the lock (re-entrant in this thread); raise :class:`OutputLockedError` if it is held."""
        key = str(self.path.resolve())
        me = threading.get_ident()
        with _GUARD:
            if key in _HELD:
                fd, owner, depth, command = _HELD[key]
                if owner != me:
                    raise OutputLockedError(f"{self.target}: in use by another thread of this process "
                                            f"({command}); wait for it or choose another output")
                _HELD[key] = (fd, owner, depth + 1, command)
            else:
                _HELD[key] = (self._lock(), me, 1, self.command)
            self._key = key
            self.fresh = key not in _HELD or _HELD[key][2] == 1
        return self

    def release(self) -> None:
        """Release (the outermost release removes the lock file and drops the lock)."""
        key, self._key = self._key, None
        if key is None:
            return
        with _GUARD:
            fd, owner, depth, command = _HELD.pop(key)
            if depth > 1:
                _HELD[key] = (fd, owner, depth - 1, command)
                return
            if fd >= 0:
                try:
                    self.path.unlink()
                except OSError:
                    pass
                os.close(fd)  # closing drops the flock

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    # -- the kernel lock ------------------------------------------------------------------------
    def _lock(self) -> int:
        """The descriptor of the locked lock file (``-1`` where there is no ``fcntl``)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks, run unguarded
            return -1
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputLockedError(f"{self.target}: in use by {holder}; wait for it to finish or choose "
                                        "another output") from None
            except OSError:
                os.close(fd)
                raise
            try:
                a, b = os.fstat(fd), os.stat(self.path)
                same = (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
            except FileNotFoundError:
                same = False
            if same:
                self._write_holder(fd)
                return fd
            os.close(fd)  # the previous holder removed this file as we opened it: lock the new one
        raise OutputLockedError(f"{self.target}: could not take the lock {self.path}")

    def _write_holder(self, fd: int) -> None:
        info = {"pid": os.getpid(), "command": self.command, "host": socket.gethostname(),
                "started": datetime.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)


def _read_holder(fd: int) -> str:
    """``pid 4242 (photo3d enhance ...) on host since 2026-...`` from a held lock file."""
    try:
        info = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
        when = str(info.get("started", "?")).replace("T", " ")
        return f"pid {info['pid']} ({info.get('command', '?')}) on {info.get('host', '?')} since {when}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another photo3d run (it has not written its details yet)"
