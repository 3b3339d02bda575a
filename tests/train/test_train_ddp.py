"""Two-process data parallel training (torchrun, gloo) keeps the ranks' parameters identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_two_rank_torchrun_keeps_parameters_identical(mv_tiny, tmp_path):
    worker = Path(__file__).with_name("_ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(worker), str(mv_tiny), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0["digest"] == r1["digest"]
    assert r0["losses"] != r1["losses"]  # the ranks saw different samples (sharded data)
    assert (tmp_path / "run" / "log.jsonl").is_file()  # rank 0 wrote the log
