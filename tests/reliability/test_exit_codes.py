"""Failure class: exit codes lie, and bad values are tracebacks.

``data build`` exited 0 when no sample succeeded (no key, 401 on every call, server down) and an
empty prompts file built an empty dataset; ``--lr nan`` was a traceback; ``--device cuda`` without
CUDA printed one failure per asset in ``render``. Now a run that produced nothing exits non-zero
with one line, and bad values are one line (exit 2) before any work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from reliability_helpers import ENHANCE_FAST, MV_TINY, TRAIN_FAST, error_lines, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))


@pytest.mark.parametrize("fault", ["401", "no key", "server down"])
def test_a_build_where_no_sample_succeeds_exits_1(fault, tmp_path, capsys, monkeypatch):
    """Guards: ``photo3d data build`` printed its summary and exited 0 although every sample
    failed. Now it exits 1 with one error line giving the failure reasons."""
    from data_helpers import asset_config, make_tiny_assets, write_config

    from photo3d.testing import FakeOpenAIServer

    assets = make_tiny_assets(tmp_path / "assets", 2)
    if fault != "no key":
        monkeypatch.setenv("OPENAI_API_KEY", "sk-reliability")
    else:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(faults=["edits:401"] * 8 if fault == "401" else []) as srv:
        url = srv.base_url if fault != "server down" else "http://127.0.0.1:9/v1"
        cfg = asset_config(tmp_path / "out", assets, url, api={"max_retries": 0, "timeout_s": 2.0})
        code, out, err = run(["data", "build", write_config(tmp_path / "c.json", cfg)], capsys)
    lines = error_lines(err, "data build")
    assert code == 1 and len(lines) == 1, err
    assert "nothing was built: 0 of 2 samples complete" in lines[0]


def test_an_empty_prompts_file_is_one_line(tmp_path, capsys):
    """Guards: an empty prompts file built an empty dataset and exited 0. Now: exit 2, one line."""
    import json

    (tmp_path / "prompts.txt").write_text("\n\n")
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"out": str(tmp_path / "out"), "source": {"kind": "prompts",
                                                                        "path": str(tmp_path / "prompts.txt")}}))
    code, _, err = run(["data", "build", cfg], capsys)
    assert code == 2 and len(err) == 1 and "prompts.txt: no prompts to build" in err[0], err
    assert not (tmp_path / "out").exists()


NAN = [
    (["train", "coupled", "--data", MV_TINY, "--out", "{tmp}/run", *TRAIN_FAST, "--lr", "nan"],
     "TrainConfig.lr = nan: expected a finite number"),
    (["train", "coupled", "--data", MV_TINY, "--out", "{tmp}/run", *TRAIN_FAST, "--grad-clip", "inf"],
     "TrainConfig.grad_clip = inf: expected a finite number"),
    (["enhance", "a.glb", "-r", "g.png", "-o", "{tmp}/out", *ENHANCE_FAST, "--lr", "nan"],
     "EnhanceConfig.lr = nan: expected a finite number"),
]


@pytest.mark.parametrize("argv, says", NAN, ids=["train --lr nan", "train --grad-clip inf", "enhance --lr nan"])
def test_a_non_finite_option_is_one_line(argv, says, tmp_path, capsys):
    """Guards: ``--lr nan`` reached the optimizer (``ValueError: Invalid learning rate`` traceback,
    or a silently NaN run). Now: exit 2, one line naming the option."""
    code, _, err = run([a.format(tmp=tmp_path) if isinstance(a, str) else a for a in argv], capsys)
    assert code == 2 and len(err) == 1 and says in err[0], err


def test_a_missing_device_is_one_line_for_many_assets(tmp_path, capsys):
    """Guards: ``render a b c --device cuda`` without CUDA reported the same device error once per
    asset (exit 1, as if the assets were broken). Now: one line, exit 2."""
    import torch

    from reliability_helpers import SUGAR_BOX

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    code, _, err = run(["render", SUGAR_BOX, SUGAR_BOX, "-o", tmp_path / "grids", "--device", "cuda"], capsys)
    assert code == 2 and len(err) == 1, err
    assert "device 'cuda' was requested but CUDA is not available" in err[0]
