"""Failure class: corrupt or non-UTF-8 files give tracebacks.

A damaged checkpoint, ``results.json``, ``results.jsonl``, ``manifest.jsonl``, a config or a
prompts file crashed with ``UnicodeDecodeError`` / ``JSONDecodeError`` tracebacks. Every such file
is now read by :mod:`photo3d.io.text` (JSON lines through :func:`photo3d.io.read_jsonl`), whose
errors are one line naming the file and, where it can, the line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reliability_helpers import MV_TINY, SUGAR_BOX, TRAIN_FAST, copy_mv_tiny, error_lines, run

LATIN1 = "a caf\u00e9 chair\n".encode("latin-1")  # a prompt saved by an old editor: not UTF-8


def _grid_folder(root: Path) -> Path:
    """A method folder of one 2x2 grid (what ``photo3d eval`` scores)."""
    import torch

    from photo3d.io import save_image

    save_image(root / "grid_0.png", torch.rand(3, 32, 32))
    return root


def _results_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps({"photo3d_eval": 1, "metrics": {}, "methods": {},
                                                   "comparisons": [], "rows": "results.jsonl"}))
    (root / "results.jsonl").write_text(json.dumps({"method": "a", "id": "0", "metrics": {}, "media": {}}) + "\n")
    return root


def _damaged_checkpoint(path: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"x": torch.zeros(2)}, str(path), metadata={"format": "photo3d-checkpoint/1", "state": '{"step": 3, '})
    return path


def _case(case: str, tmp: Path) -> tuple[list, str]:
    """``(argv, what the error line must contain)`` for one corrupt input."""
    out = tmp / "out"
    if case == "checkpoint header":
        ckpt = _damaged_checkpoint(tmp / "ck" / "step_0000003.safetensors")
        return (["train", "coupled", "--data", MV_TINY, "--out", out, *TRAIN_FAST, "--resume", ckpt],
                "step_0000003.safetensors: damaged checkpoint header")
    if case == "results.json syntax":
        res = _results_folder(tmp / "res")
        (res / "results.json").write_text('{"photo3d_eval": 1,\n "methods": {"a": }\n}')
        return ["report", res, "-o", out / "r.html"], "results.json:2:19: not valid JSON"
    if case == "results.json not UTF-8":
        res = _results_folder(tmp / "res")
        (res / "results.json").write_bytes(b'{"suite": {"name": "caf\xe9"}}')
        return ["report", res, "-o", out / "r.html"], "results.json:1: not UTF-8 text (byte 0xe9"
    if case == "results.jsonl not UTF-8":
        res = _results_folder(tmp / "res")
        with open(res / "results.jsonl", "ab") as fh:
            fh.write(b'{"method": "b", "id": "caf\xe9"}\n')
        return ["report", res, "-o", out / "r.html"], "results.jsonl:2: not UTF-8 text"
    if case == "manifest.jsonl not UTF-8":
        data = copy_mv_tiny(tmp / "mv")
        with open(data / "manifest.jsonl", "ab") as fh:
            fh.write(b'{"id": "2", "prompt": "caf\xe9"}\n')
        return ["train", "coupled", "--data", data, "--out", out, *TRAIN_FAST], "manifest.jsonl:3: not UTF-8 text"
    if case == "prompts.txt not UTF-8":
        data = copy_mv_tiny(tmp / "mv")
        (data / "manifest.jsonl").unlink()
        (data / "prompts.txt").write_bytes(b"a box\n" + LATIN1)
        return ["train", "coupled", "--data", data, "--out", out, *TRAIN_FAST], "prompts.txt:2: not UTF-8 text"
    if case == "build config not UTF-8":
        cfg = tmp / "build.toml"
        cfg.write_bytes(b'out = "x"\n[source]\nkind = "prompts"\nprompts = ["caf\xe9"]\n')
        return ["data", "build", cfg], "build.toml:4: not UTF-8 text"
    if case == "build config syntax":
        cfg = tmp / "build.json"
        cfg.write_text('{"out": "x",\n "source": {"kind": "prompts",}}')
        return ["data", "build", cfg], "build.json:2:31: not valid JSON"
    if case == "prompts file not UTF-8":
        prompts = tmp / "prompts.txt"
        prompts.write_bytes(b"an oak table\n" + LATIN1)
        cfg = tmp / "build.json"
        cfg.write_text(json.dumps({"out": str(out), "source": {"kind": "prompts", "path": str(prompts)}}))
        return ["data", "build", cfg], "prompts.txt:2: not UTF-8 text"
    if case == "suite file syntax":
        suite = tmp / "suite.json"
        suite.write_text('{"suite": {"name": "x", }}')
        return ["eval", _grid_folder(tmp / "m"), "-o", out, "--suite", suite], "suite.json:1:25: not valid JSON"
    if case == "suite record in the results folder":
        out.mkdir()
        (out / "suite.json").write_bytes(b"\x00\x01garbage")
        return (["eval", _grid_folder(tmp / "m"), "-o", out, "--metrics", "psnr"],
                "out/suite.json:1:1: not valid JSON")
    if case == "eval prompts not UTF-8":
        prompts = tmp / "prompts.txt"
        prompts.write_bytes(LATIN1)
        return (["eval", _grid_folder(tmp / "m"), "-o", out, "--prompts", prompts, "--metrics", "psnr"],
                "prompts.txt:1: not UTF-8 text")
    if case == "TRELLIS pipeline.json syntax":
        weights = tmp / "trellis"
        weights.mkdir()
        (weights / "pipeline.json").write_text('{"args": ')
        photo = _grid_folder(tmp / "photo") / "grid_0.png"
        return ["generate", photo, "--weights", weights, "-o", out], "trellis/pipeline.json:1:10: not valid JSON"
    if case == "bake cameras not UTF-8":
        views = tmp / "views"
        views.mkdir()
        (views / "cameras.json").write_bytes(b"\xff\xfe{")
        return ["bake", SUGAR_BOX, "--views", views, "-o", out / "b.glb"], "views/cameras.json:1: not UTF-8 text"
    raise AssertionError(case)


CASES = ["checkpoint header", "results.json syntax", "results.json not UTF-8", "results.jsonl not UTF-8",
         "manifest.jsonl not UTF-8", "prompts.txt not UTF-8", "build config not UTF-8", "build config syntax",
         "prompts file not UTF-8", "suite file syntax", "suite record in the results folder", "eval prompts not UTF-8",
         "TRELLIS pipeline.json syntax", "bake cameras not UTF-8"]


@pytest.mark.parametrize("case", CASES)
def test_a_corrupt_input_file_is_one_line_naming_file_and_line(case, tmp_path, capsys, api_key):
    """Guards: UnicodeDecodeError / JSONDecodeError / KeyError tracebacks from damaged or
    non-UTF-8 inputs (and messages without the line). Now: exit 2, one ``FILE:LINE: ...`` line,
    and no result files written."""
    argv, expected = _case(case, tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    code, _, err = run(argv, capsys)
    command = str(argv[0])
    lines = error_lines(err, command)
    assert code == 2 and len(lines) == 1, err
    assert expected in lines[0], lines[0]
    written = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in written if p.is_file()], sorted(written)

