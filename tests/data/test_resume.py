"""kill -9 in the middle of a build, rerun: byte-identical output, no repeated paid call."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from data_helpers import asset_config, make_tiny_assets, write_config

from photo3d.data import build, load_config
from photo3d.testing import FakeOpenAIServer

N = 6
VOLATILE = {"timings.jsonl", "config.json"}  # timings by design; config.json holds the output path


def final_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(out).parts and p.name not in VOLATILE}


def test_killed_run_resumes_byte_identical(api_key, tmp_path):
    assets = make_tiny_assets(tmp_path / "assets", N)
    with FakeOpenAIServer(latency=0.3) as srv:
        cfg = asset_config(tmp_path / "A", assets, srv.base_url, executor={"concurrency": {"edit": 1}},
                           tone={"mode": "meanstd"})
        path = write_config(tmp_path / "a.json", cfg)
        log = (tmp_path / "build.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from photo3d.cli import main; sys.exit(main())",
                                 "data", "build", str(path), "--no-progress"], stdout=log, stderr=subprocess.STDOUT)
        write_dir = tmp_path / "A" / ".cache" / "write"
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            if write_dir.is_dir() and len(list(write_dir.glob("*.done.json"))) >= 2:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
        done_before = len(list(write_dir.glob("*.done.json")))
        assert 2 <= done_before < N, (tmp_path / "build.log").read_text()
        cached = len(list((tmp_path / "A" / ".cache" / "edit").glob("*/calls/*.meta.json")))
        calls_before = srv.calls["edits"]
        assert cached <= calls_before
        res = build(load_config(path))
        assert res.stats.finished == N and res.stats.skipped == done_before
        assert srv.calls["edits"] - calls_before == N - cached  # nothing finished was paid for twice
        calls_after = srv.calls["edits"]
        again = build(load_config(path))  # a finished run: nothing to do, nothing rewritten
        assert srv.calls["edits"] == calls_after and again.stats.skipped == N and not again.finalized

    with FakeOpenAIServer() as srv2:
        cfg_b = asset_config(tmp_path / "B", assets, srv2.base_url, tone={"mode": "meanstd"})
        build(load_config(write_config(tmp_path / "b.json", cfg_b)))
        assert srv2.calls["edits"] == N
    a, b = final_files(tmp_path / "A"), final_files(tmp_path / "B")
    assert sorted(a) == sorted(b)
    assert len([k for k in a if k.startswith("grid_")]) == N
    differing = [k for k in a if a[k] != b[k]]
    assert not differing
