"""Failure class: resume ignores changed options.

Resuming with another ``--lr`` or ``--seed`` ran on and overwrote ``config.json`` with values that
were not used for the first part; another ``--width`` was a traceback. Rerunning a dataset build
with other settings mixed cached results of the old settings with new ones. Now both refuse with
one line listing the differences; ``--resume-override`` goes on and records them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from reliability_helpers import MV_TINY, TRAIN_FAST, error_lines, run

RESUME = ["train", "coupled", "--data", MV_TINY, "--steps", "3", "--resume", "auto"]
BASE = [a for a in TRAIN_FAST if a not in ("--steps", "2")]


def _with(options: list[str], changed: dict[str, str]) -> list[str]:
    out = list(options)
    for flag, value in changed.items():
        if flag in out:
            out[out.index(flag) + 1] = value
        else:
            out += [flag, value]
    return out


CHANGES = [({"--lr": "0.001"}, "train.lr: 0.0001 -> 0.001"), ({"--seed": "5"}, "train.seed: 0 -> 5"),
           ({"--width": "32"}, "coupled.width: 16 -> 32"), ({"--n-crops": "3"}, "loss.n_crops: 6 -> 3")]


@pytest.mark.parametrize("changed, says", CHANGES, ids=[next(iter(c)) for c, _ in CHANGES])
def test_resuming_with_other_options_is_refused(changed, says, run_copy, capsys):
    """Guards: ``--resume`` with another learning rate, seed, model width or loss setting ran on
    (or crashed on the state-dict shapes) and rewrote config.json. Now: exit 2, one line listing
    the differences, and the run folder untouched."""
    before = (run_copy / "config.json").read_bytes()
    code, _, err = run([*RESUME, "--out", run_copy, *_with(BASE, changed)], capsys)
    lines = error_lines(err, "train")
    assert code == 2 and len(lines) == 1, err
    assert says in lines[0] and "--resume-override" in lines[0], lines[0]
    assert (run_copy / "config.json").read_bytes() == before
    assert not (run_copy / "checkpoints" / "step_0000003.safetensors").exists()


def test_resume_override_goes_on_and_records_what_changed(run_copy, capsys):
    """Guards: with ``--resume-override`` the new options are the ones used (the optimizer's
    learning rate from the checkpoint does not win), and config.json records the change."""
    code, _, err = run([*RESUME, "--out", run_copy, *_with(BASE, {"--lr": "0.02"}), "--resume-override"], capsys)
    assert code == 0, err
    assert any("photo3d train: warning: resuming with changed options" in line for line in err)
    config = json.loads((run_copy / "config.json").read_text())
    assert config["resume_overrides"] == [{"step": 2, "changes": ["train.lr: 0.0001 -> 0.02"]}]
    last = json.loads((run_copy / "log.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 3 and last["lr"] == pytest.approx(0.02)


def test_resuming_with_the_same_options_still_works(run_copy, capsys):
    """Guards the other side: an unchanged resume (more steps, other logging) is accepted."""
    code, _, err = run([*RESUME, "--out", run_copy, *BASE, "--log-every", "2"], capsys)
    assert code == 0, err
    assert (run_copy / "checkpoints" / "step_0000003.safetensors").is_file()


def test_rebuilding_a_dataset_with_other_settings_is_refused(api_key, tmp_path, capsys):
    """Guards: a second ``data build`` into a folder with another render resolution reused the
    cached renders and edits of the first and recorded the new settings. Now: exit 2, one line."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
    from data_helpers import asset_config, make_tiny_assets, write_config

    from photo3d.testing import FakeOpenAIServer

    assets = make_tiny_assets(tmp_path / "assets", 1)
    with FakeOpenAIServer() as srv:
        cfg = asset_config(tmp_path / "out", assets, srv.base_url)
        assert run(["data", "build", write_config(tmp_path / "a.json", cfg)], capsys)[0] == 0
        calls = srv.calls["edits"]
        cfg["render"]["resolution"] = 48
        cfg["api"]["timeout_s"] = 5.0  # how calls are made may change; what is built may not
        code, _, err = run(["data", "build", write_config(tmp_path / "b.json", cfg)], capsys)
        assert code == 2 and len(error_lines(err, "data")) == 1, err
        assert "render.resolution: 32 -> 48" in err[0] and "api" not in err[0].split("(")[1].split(")")[0]
        assert srv.calls["edits"] == calls
        code, _, err = run(["data", "build", write_config(tmp_path / "b.json", cfg), "--resume-override"], capsys)
        assert code == 0, err
    record = json.loads((tmp_path / "out" / ".cache" / "options.json").read_text())
    assert record["overrides"][0]["changes"] == ["render.resolution: 32 -> 48"]
