"""Output folders (photo3d.io.output): staged sets, markers last, recovery after a kill, locks."""

from __future__ import annotations

import errno
import json
import threading

import pytest

from photo3d.io import atomic_path, atomic_write_text, open_output
from photo3d.io.lock import OutputLockedError
from photo3d.io.output import FILES, JOURNAL, STAGING, OutputError, describe_os_error, recover


def _names(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_a_staged_set_appears_only_at_the_end(tmp_path):
    out = tmp_path / "out"
    with open_output(out, markers=("record.json",)) as o:
        atomic_write_text(o.folder / "a.txt", "a")
        atomic_write_text(o.folder / "record.json", "{}")
        assert o.folder == out / STAGING and _names(out) == []
        assert o.final(o.folder / "a.txt") == out / "a.txt"
    assert _names(out) == ["a.txt", "record.json"] and not (out / STAGING).exists()
    assert json.loads((out / FILES).read_text())["entries"][-1] == "record.json"  # the marker moved last


def test_a_failed_run_leaves_the_previous_set_and_removes_a_folder_it_created(tmp_path):
    out = tmp_path / "out"
    with open_output(out) as o:
        atomic_write_text(o.folder / "a.txt", "first")
    with pytest.raises(RuntimeError), open_output(out) as o:
        atomic_write_text(o.folder / "a.txt", "second")
        raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "first" and not (out / STAGING).exists()
    with pytest.raises(RuntimeError), open_output(tmp_path / "new"):
        raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()


def test_files_of_the_previous_run_that_this_run_did_not_write_are_removed(tmp_path):
    out = tmp_path / "out"
    with open_output(out) as o:
        atomic_write_text(o.folder / "old.txt", "old")
        atomic_write_text(o.folder / "kept.txt", "1")
    (out / "mine.txt").write_text("the user's")  # not written by a run: left alone
    with open_output(out) as o:
        atomic_write_text(o.folder / "kept.txt", "2")
    assert _names(out) == ["kept.txt", "mine.txt"] and (out / "kept.txt").read_text() == "2"


def test_recover_removes_temporaries_and_finishes_a_cut_short_commit(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").mkdir()
    left = out / "sub" / ".y.png.abcd1234.png.tmp"  # atomic_path's temporary, left by a kill -9
    left.write_bytes(b"half")
    user = out / "sub" / ".notes.tmp"  # not one of ours: kept
    user.write_text("x")
    stage = out / STAGING
    stage.mkdir()
    (stage / "b.txt").write_text("new")  # staged, its move journalled, then kill -9
    (stage / JOURNAL).write_text(json.dumps({"entries": ["a.txt", "b.txt"], "markers": [], "kind": "dir",
                                             "remove": []}))
    (out / "a.txt").write_text("moved before the kill")
    removed = recover(out)
    assert left in removed and not left.exists() and user.exists()
    assert (out / "b.txt").read_text() == "new" and (out / "a.txt").read_text() == "moved before the kill"
    assert not stage.exists()


def test_a_file_in_the_way_and_a_folder_for_a_file_are_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, but the output must be a folder"):
        with open_output(tmp_path / "f"):
            pass
    with pytest.raises(OutputError, match="is a file, so"):
        with open_output(tmp_path / "f" / "out"):
            pass
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a folder, but the output must be a file"):
        with open_output(tmp_path / "d", "file"):
            pass


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(tmp_path):
    out = tmp_path / "out"
    seen = []

    def other():
        try:
            with open_output(out, staged=False):
                seen.append("entered")
        except OutputLockedError as exc:
            seen.append(str(exc))

    with open_output(out, staged=False):
        with open_output(out) as inner:  # the same run opening its staged set: joins the lock
            atomic_write_text(inner.folder / "a.txt", "a")
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert (out / "a.txt").is_file()
    assert len(seen) == 1 and "in use by another thread of this process" in seen[0]


def test_a_library_error_wrapping_an_os_error_becomes_that_os_error(tmp_path):
    with pytest.raises(OSError) as info:
        with atomic_path(tmp_path / "w.safetensors"):
            raise RuntimeError("Error while serializing: IoError(StorageFull) (os error 28)")
    assert info.value.errno == errno.ENOSPC and info.value.filename.endswith("w.safetensors")
    assert "no space left" in describe_os_error(info.value)
    assert list(tmp_path.iterdir()) == []  # no temporary left behind
    with pytest.raises(ValueError):  # other errors pass through unchanged
        with atomic_path(tmp_path / "v.bin"):
            raise ValueError("not a write failure")
