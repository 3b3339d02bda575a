"""Failure class: no lock on output folders.

Two ``enhance`` runs into one folder left a ``record.json`` describing run A beside run B's
``enhanced.glb``; two ``data build`` runs into one folder each paid for every edit. Now every
command locks its output before any work (``flock``, dropped by the kernel when the holder dies),
and a second run exits 2 with one line naming the holder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from reliability_helpers import ENHANCE_FAST, error_lines, run, spawn, visible, wait_for

HOLDER = """
import sys, time
from photo3d.io.output import open_output
with open_output(sys.argv[1], sys.argv[2], staged=False, command="photo3d " + sys.argv[3] + " (the first run)"):
    print("held", flush=True)
    time.sleep(600)
"""

# command -> (argv with OUT in it, the output kind); inputs need not exist: the lock comes first
COMMANDS = {
    "enhance": (["enhance", "a.glb", "-r", "g.png", "-o", "{out}"], "dir"),
    "texture": (["texture", "a.glb", "--prompt", "oak", "--model", "testing-views", "--weights", "tiny", "-o", "{out}"],
                "dir"),
    "bake": (["bake", "a.glb", "--views", "v", "-o", "{out}/baked.glb"], "file"),
    "render": (["render", "a.glb", "-o", "{out}/grid.png"], "file"),
    "demo": (["demo", "-o", "{out}"], "dir"),
    "data": (["data", "build", "build.toml", "--out", "{out}"], "dir"),
    "train": (["train", "coupled", "--data", "d", "--out", "{out}"], "dir"),
    "train feedforward": (["train", "feedforward", "--data", "d", "--out", "{out}"], "dir"),
    "train mvdiffusion": (["train", "mvdiffusion", "--data", "d", "--out", "{out}"], "dir"),
    "generate": (["generate", "photo.png", "--weights", "tiny", "-o", "{out}"], "dir"),
    "eval": (["eval", "m", "-o", "{out}"], "dir"),
    "report": (["report", "r", "-o", "{out}/report.html"], "file"),
}


def _hold(target, kind: str, command: str, log):
    """A separate process holding the lock of ``target`` as a running ``photo3d COMMAND`` would."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(target), kind, command], stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT)
    assert wait_for(lambda: b"held" in log.read_bytes(), proc, 60), log.read_text()
    return proc


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_second_run_into_a_held_output_stops_naming_the_holder(command, tmp_path, capsys):
    """Guards: nothing stopped a second run from writing into an output another run was writing.
    Now: exit 2 before any work, one line naming the holder's pid and command."""
    argv, kind = COMMANDS[command]
    out = tmp_path / "out"
    argv = [a.format(out=out) for a in argv]
    target = out if kind == "dir" else out / argv[-1].rsplit("/", 1)[1]
    out.mkdir()
    holder = _hold(target, kind, command, tmp_path / "holder.log")
    try:
        code, _, err = run(argv, capsys)
    finally:
        holder.kill()
        holder.wait()
    assert code == 2, err
    lines = error_lines(err, command.split()[0])
    assert len(lines) == 1 == len(err), err
    assert f"in use by pid {holder.pid} (photo3d {command} (the first run))" in lines[0], lines[0]
    assert visible(out) == set()  # the second run wrote nothing


def test_a_lock_left_by_kill_9_does_not_block_the_next_run(cube_case, tmp_path, capsys):
    """Guards the other side: a holder killed with SIGKILL leaves its lock file, and the kernel has
    dropped the lock, so the rerun goes ahead (no stale-lock cleanup needed)."""
    asset, ref = cube_case
    out = tmp_path / "out"
    holder = _hold(out, "dir", "enhance", tmp_path / "holder.log")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (out / ".photo3d.lock").exists()  # left behind by the killed holder
    code, _, err = run(["enhance", asset, "-r", ref, "-o", out, *ENHANCE_FAST], capsys)
    assert code == 0, err
    assert (out / "record.json").is_file() and not (out / ".photo3d.lock").exists()


def test_two_enhance_runs_into_one_folder_cannot_mix(cube_case, tmp_path):
    """Guards: two concurrent ``photo3d enhance`` processes into one folder left files of both.
    Now the second exits 2 naming the first, and the folder holds the first run's set only."""
    asset, ref = cube_case
    out = tmp_path / "out"
    slow = [*ENHANCE_FAST, "--steps", "30"]
    first = spawn(["enhance", asset, "-r", ref, "-o", out, *slow, "--seed", "1"], tmp_path / "a.log")
    try:
        assert wait_for(lambda: (out / ".photo3d.lock").exists(), first, 120), (tmp_path / "a.log").read_text()
        second = spawn(["enhance", asset, "-r", ref, "-o", out, *ENHANCE_FAST, "--seed", "2"], tmp_path / "b.log")
        assert second.wait(120) == 2
        assert first.poll() is None  # the two really overlapped
    finally:
        rc = first.wait(300)
    log_b = (tmp_path / "b.log").read_text().strip().splitlines()
    assert log_b == [l for l in log_b if l.startswith("photo3d enhance: error:")] and len(log_b) == 1, log_b
    assert f"in use by pid {first.pid}" in log_b[0]
    assert rc == 0, (tmp_path / "a.log").read_text()
    record = json.loads((out / "record.json").read_text())
    assert record["config"]["seed"] == 1 and record["steps_done"] == 30
    assert visible(out) == set(record["files"].values()) | {"record.json"}  # exactly the first run's set


def test_two_builds_into_one_folder_never_pay_twice(api_key, tmp_path):
    """Guards: two concurrent ``photo3d data build`` runs into one folder each paid for every edit.
    Now the second stops at once (exit 2, naming the first) and every edit is paid exactly once."""
    sys.path.insert(0, str(os.path.join(os.path.dirname(__file__), "..", "data")))
    from data_helpers import asset_config, make_tiny_assets, write_config

    from photo3d.testing import FakeOpenAIServer

    n = 4
    assets = make_tiny_assets(tmp_path / "assets", n)
    out = tmp_path / "out"
    with FakeOpenAIServer(latency=1.0) as srv:  # the first build takes several seconds after taking the lock
        cfg = asset_config(out, assets, srv.base_url, executor={"concurrency": {"edit": 1}}, api={"timeout_s": 10.0})
        path = write_config(tmp_path / "build.json", cfg)
        first = spawn(["data", "build", path, "--out", out, "--no-progress"], tmp_path / "a.log")
        try:
            lock = out / ".photo3d.lock"
            assert wait_for(lambda: lock.exists(), first, 120), (tmp_path / "a.log").read_text()
            second = spawn(["data", "build", path, "--out", out, "--no-progress"], tmp_path / "b.log")
            assert second.wait(120) == 2, (tmp_path / "b.log").read_text()
            assert first.poll() is None  # the two really overlapped
        finally:
            rc = first.wait(300)
        assert rc == 0, (tmp_path / "a.log").read_text()
        assert srv.calls["edits"] == n  # not 2n
    err_b = (tmp_path / "b.log").read_text().strip().splitlines()
    assert len(err_b) == 1 and f"in use by pid {first.pid} (photo3d data build" in err_b[0], err_b
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok"] * n
