"""Output folders: locked, probed, staged, committed as a set. The one home of "where results go".

Every command that writes results opens its output through :func:`open_output`::

    with open_output("out/", markers=("record.json",)) as out:
        save_image(out.folder / "grid.png", grid)        # written into the hidden staging folder
        atomic_write_json(out.folder / "record.json", record)
    # here every file is in out/, record.json last; on any exception nothing in out/ changed

What it guarantees, in order:

1. **The target is usable before any work**: a folder where a file is (or a file where a folder
   is) is one error line; the folder is created and probed by writing and ``fsync``-ing a
   small file, so a read-only folder or a full disk stops the run before it computes anything.
2. **One run at a time**: an exclusive lock (:mod:`photo3d.io.lock`); a second run into the same
   output stops with one line naming the holder.
3. **Nothing stale**: under the lock, temporary files left by a killed run (``.NAME.XXXXXXXX.tmp``
   from :func:`photo3d.io.atomic_path`) and abandoned staging folders are removed; a commit that
   was cut short is finished.
4. **Staged outputs** (``staged=True``): the run writes into ``OUT/.photo3d-staging/`` and the
   commit moves everything into place at the end, with SIGINT/SIGTERM deferred while it moves:
   files by atomic rename, sub-folders whole, the ``markers`` (e.g. ``record.json``) last after the
   old ones were removed first. The commit writes its list of moves before the first move, so a
   ``kill -9`` in the middle is rolled forward by the next run (step 3). Files the previous run
   into the folder wrote and this one did not are removed (the folder's ``.photo3d-files.json``
   lists them), so a folder never holds results of two runs. On an exception or a signal the
   staging folder is deleted and ``OUT`` is as before (a folder created for the run is removed
   again when it stayed empty).

Incremental outputs (``staged=False``: a dataset build, a training run, an evaluation that resume
where they stopped) get 1-3 and write in place, each file atomically.
Torch-free.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from photo3d.errors import Photo3DError
from photo3d.io.lock import LOCK_NAME, FolderLock

STAGING = ".photo3d-staging"
JOURNAL = ".photo3d-commit.json"
FILES = ".photo3d-files.json"
# atomic_path's temporary files: ".NAME." + 8 characters of tempfile's alphabet + suffixes + ".tmp"
TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}(\.[^.]+)*\.tmp$")
OWN_NAMES = (LOCK_NAME, STAGING, JOURNAL, FILES)

_ACTIVE: dict[tuple[str, int], "Output"] = {}  # (target, thread) -> the staged output being written
_ACTIVE_GUARD = threading.Lock()


class OutputError(Photo3DError):
    """The output path cannot be written (a file in the way, read-only, full, no permission)."""


@dataclass
class Output:
    """An opened output (see :func:`open_output`).

    Attributes:
        target: the final folder (``kind="dir"``) or file (``kind="file"``).
        kind: ``"dir"`` or ``"file"``.
        folder: where the run writes: the staging folder when staged, else the final folder.
        staged: whether writes are staged and committed at the end.
    """

    target: Path
    kind: str
    folder: Path
    staged: bool

    @property
    def final_folder(self) -> Path:
        """The folder results end up in."""
        return self.target if self.kind == "dir" else self.target.parent

    @property
    def file(self) -> Path:
        """Where to write the output of a ``kind="file"`` output (in the staging folder when staged)."""
        return self.folder / self.target.name

    def final(self, path: str | os.PathLike) -> Path:
        """The final location of ``path``, a path under :attr:`folder`."""
        rel = Path(path).relative_to(self.folder)
        return self.final_folder / rel


def describe_os_error(exc: OSError, doing: str = "write") -> str:
    """One line for a failed file operation: the file, what went wrong, what to do."""
    name = exc.filename if exc.filename is not None else "output"
    if exc.filename2 is not None:
        name = f"{name} -> {exc.filename2}"
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        what = "no space left on the device (or quota exceeded); free some space or choose another output folder"
    elif code == errno.EFBIG:
        what = "file too large for the file system or this process's file-size limit (ulimit -f)"
    elif code == errno.EROFS:
        what = "read-only file system; choose a writable output folder"
    elif code in (errno.EACCES, errno.EPERM):
        what = f"permission denied; choose a folder you can {doing} to"
    elif code in (errno.EEXIST, errno.ENOTDIR):
        what = "a file is in the way where a folder is needed; remove it or choose another output"
    elif code == errno.EISDIR:
        what = "is a folder where a file is needed; choose a file name"
    else:
        what = exc.strerror or str(exc)
    return f"{name}: cannot {doing} ({what})" if code not in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR) \
        else f"{name}: {what}"


@contextlib.contextmanager
def open_output(target: str | os.PathLike, kind: str = "dir", *, staged: bool = True,
                markers: Sequence[str] = (), command: str | None = None) -> Iterator[Output]:
    """Open an output folder or file for one run (see the module docs).

    Args:
        target: the output folder, or the output file for ``kind="file"``.
        kind: ``"dir"`` or ``"file"``.
        staged: write into a staging folder and commit the set at the end.
        markers: names (relative to the final folder) committed last, after their old versions
            were removed (a folder with its marker holds a finished run's complete set).
        command: what holds the lock (default: this command line).

    Yields:
        :class:`Output`; write under ``out.folder`` (``out.file`` for a single file).

    Raises:
        OutputError: the target is not usable (one line).
        OutputLockedError: another run holds it.
    """
    target = Path(target)
    key = (str(target.resolve()), threading.get_ident())
    with _ACTIVE_GUARD:
        outer = _ACTIVE.get(key)
    if outer is not None:  # nested in a staged output of the same target: write into it
        yield outer
        return
    folder = target if kind == "dir" else target.parent
    created = _prepare(target, kind)
    lock = FolderLock(target, kind, command)
    try:
        lock.acquire()
    except BaseException:
        _remove_if_empty(folder, created)
        raise
    committed = False
    try:
        if lock.fresh:
            with deferred_signals():
                recover(folder, None if kind == "dir" else target.name)
        if not staged:
            yield Output(target, kind, folder, False)
            committed = True
            return
        stage = _staging(folder, kind, target.name)
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir()
        out = Output(target, kind, stage, True)
        with _ACTIVE_GUARD:
            _ACTIVE[key] = out
        try:
            yield out
            commit(stage, folder, kind, tuple(markers))
            committed = True
        finally:
            with _ACTIVE_GUARD:
                _ACTIVE.pop(key, None)
            if stage.exists() and not (stage / JOURNAL).exists():
                shutil.rmtree(stage, ignore_errors=True)  # an aborted run: drop what it staged
    finally:
        lock.release()
        if not committed:
            _remove_if_empty(folder, created)


# ---- before any work ---------------------------------------------------------------------------
def _prepare(target: Path, kind: str) -> bool:
    """Check the target's type, create its folder and probe it; True when the folder was created."""
    folder = target if kind == "dir" else target.parent
    if kind == "dir" and target.exists() and not target.is_dir():
        raise OutputError(f"{target}: is a file, but the output must be a folder; remove it or choose another "
                          "output folder")
    if kind == "file" and target.is_dir():
        raise OutputError(f"{target}: is a folder, but the output must be a file; choose a file name")
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{parent}: is a file, so {target} cannot be created; choose another output")
            break
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, "create the output folder")) from exc
    probe_writable(folder)
    return created


def probe_writable(folder: str | os.PathLike) -> None:
    """Write, fsync and delete a small file in ``folder``; any failure is one :class:`OutputError` line."""
    folder = Path(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".photo3d-probe.", suffix=".tmp", dir=folder)
    except OSError as exc:
        exc.filename = exc.filename or str(folder)
        raise OutputError(describe_os_error(exc)) from exc
    try:
        os.write(fd, b"\0" * 4096)
        os.fsync(fd)
    except OSError as exc:
        exc.filename = str(folder)
        raise OutputError(describe_os_error(exc)) from exc
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _remove_if_empty(folder: Path, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()


# ---- stale files and interrupted commits -------------------------------------------------------
def recover(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Clean up after killed runs (call under the lock): finish cut-short commits, remove staging
    folders and temporary files.

    Args:
        folder: the output folder (searched recursively) or, with ``name``, the folder of one
            output file (only that file's temporaries and staging folder are touched).
        name: the output file's name for a single-file output.

    Returns:
        The paths removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    stage = _staging(folder, "dir" if name is None else "file", name or "")
    if (stage / JOURNAL).is_file():
        _apply(stage, folder)
    if stage.exists():
        shutil.rmtree(stage, ignore_errors=True)
        removed.append(stage)
    if name is not None:
        for p in folder.glob(f".{glob_escape(name)}.*.tmp"):
            if TEMP_RE.match(p.name):
                removed.append(p)
                p.unlink(missing_ok=True)
        return removed
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != STAGING]
        for f in files:
            if f.startswith(".") and f.endswith(".tmp") and TEMP_RE.match(f):
                p = Path(root) / f
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed.append(p)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


# ---- the commit ------------------------------------------------------------------------------
def _staging(folder: Path, kind: str, name: str) -> Path:
    return folder / STAGING if kind == "dir" else folder / f".{name}{STAGING}"


def commit(stage: Path, folder: Path, kind: str = "dir", markers: tuple[str, ...] = ()) -> None:
    """Move everything staged in ``stage`` into ``folder`` as one set (see the module docs)."""
    entries = sorted(p.name for p in stage.iterdir() if p.name != JOURNAL)
    markers = tuple(m for m in markers if m in entries)
    plan = {"entries": [e for e in entries if e not in markers] + list(markers), "markers": list(markers),
            "kind": kind, "remove": []}
    if kind == "dir":
        previous = _previous_files(folder)
        plan["remove"] = sorted(set(previous) - set(entries) - set(OWN_NAMES))
    with deferred_signals():
        data = json.dumps(plan).encode("utf-8")
        with open(stage / (JOURNAL + ".part"), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(stage / (JOURNAL + ".part"), stage / JOURNAL)
        _apply(stage, folder)


def _apply(stage: Path, folder: Path) -> None:
    """Carry out (or finish) the moves listed in ``stage``'s journal; idempotent."""
    plan = json.loads((stage / JOURNAL).read_text(encoding="utf-8"))
    for m in plan["markers"]:
        if (stage / m).exists():  # not moved yet: the old marker must not sit beside new files
            (folder / m).unlink(missing_ok=True)
    for name in plan["entries"]:
        src, dst = stage / name, folder / name
        if not src.exists() and not src.is_symlink():
            continue  # moved before an interruption
        if src.is_dir() and not src.is_symlink():
            old = stage / f".old-{name}"
            if dst.is_dir() and not dst.is_symlink():
                if old.exists():
                    shutil.rmtree(old)
                os.rename(dst, old)
            elif dst.exists() or dst.is_symlink():
                dst.unlink()
            os.rename(src, dst)
        else:
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            os.replace(src, dst)
    for name in plan["remove"]:
        p = folder / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    if plan["kind"] == "dir":
        record = {"entries": plan["entries"], "committed": datetime.datetime.now().isoformat(timespec="seconds")}
        tmp = folder / (FILES + ".part")
        tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
        os.replace(tmp, folder / FILES)
    (stage / JOURNAL).unlink()
    shutil.rmtree(stage, ignore_errors=True)


def _previous_files(folder: Path) -> list[str]:
    try:
        doc = json.loads((folder / FILES).read_text(encoding="utf-8"))
        return [str(e) for e in doc.get("entries", []) if "/" not in str(e) and str(e) not in ("", ".", "..")]
    except (OSError, ValueError, AttributeError):
        return []


# ---- signals -----------------------------------------------------------------------------------
@contextlib.contextmanager
def deferred_signals(signums: Sequence[int] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block is done, then deliver them to the previous handlers.

    Moving a staged set into place takes milliseconds; an interrupt in the middle would leave a
    mixed folder. Outside the main thread (where Python cannot set handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {}
    for s in signums:
        previous[s] = signal.signal(s, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        for s in dict.fromkeys(pending):
            handler = previous[s]
            if callable(handler):
                handler(s, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(s)
