"""Failure class: write failures are tracebacks, and leave half a result set.

``-o`` pointing at an existing file, a read-only folder or a full disk gave a traceback in every
command; ``enhance`` found out after the whole optimisation and left half a result set. Now the
output is checked and probed before any work, failed writes are one line (exit 2), and staged
outputs leave the previous result set untouched.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
from reliability_helpers import ENHANCE_FAST, MV_TINY, PYTHON_MAIN, error_lines, make_read_only, run, snapshot

# command -> argv with {out} (a folder, or a file inside {out} for single-file outputs); the inputs
# need not exist: the output is checked first
COMMANDS = {
    "enhance": ["enhance", "a.glb", "-r", "g.png", "-o", "{out}"],
    "texture": ["texture", "a.glb", "--prompt", "oak", "--model", "testing-views", "--weights", "tiny", "-o", "{out}"],
    "bake": ["bake", "a.glb", "--views", "v", "-o", "{out}/baked.glb"],
    "render": ["render", "a.glb", "-o", "{out}/grid.png"],
    "demo": ["demo", "-o", "{out}"],
    "data": ["data", "build", "build.toml", "--out", "{out}"],
    "train": ["train", "coupled", "--data", "d", "--out", "{out}"],
    "train feedforward": ["train", "feedforward", "--data", "d", "--out", "{out}"],
    "train mvdiffusion": ["train", "mvdiffusion", "--data", "d", "--out", "{out}"],
    "generate": ["generate", "photo.png", "--weights", "tiny", "-o", "{out}"],
    "eval": ["eval", "m", "-o", "{out}"],
    "report": ["report", "r", "-o", "{out}/report.html"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_output_through_an_existing_file_is_one_line(command, tmp_path, capsys):
    """Guards: ``-o`` naming an existing file (or a path through one) was a FileExistsError /
    NotADirectoryError traceback. Now: one line before any work, the file untouched."""
    blocker = tmp_path / "taken"
    blocker.write_bytes(b"user data")
    code, _, err = run([a.format(out=blocker) for a in COMMANDS[command]], capsys)
    assert code == 2 and len(err) == 1 == len(error_lines(err, command.split()[0])), err
    assert "taken: is a file" in err[0]
    assert blocker.read_bytes() == b"user data"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_read_only_output_folder_is_one_line_before_any_work(command, tmp_path, capsys):
    """Guards: a read-only output folder was a PermissionError traceback (for ``enhance`` after
    the whole optimisation). Now the probe write fails first: one line naming the folder."""
    out = tmp_path / "out"
    out.mkdir()
    undo = make_read_only(out)
    if undo is None:
        pytest.skip("cannot make a folder read-only here (root without chattr)")
    try:
        code, _, err = run([a.format(out=out) for a in COMMANDS[command]], capsys)
    finally:
        undo()
    assert code == 2 and len(err) == 1 == len(error_lines(err, command.split()[0])), err
    assert str(out) in err[0] and ("cannot write" in err[0] or "cannot create" in err[0]), err[0]
    assert list(out.iterdir()) == []


def _limited(argv: list[str], limit: int, log) -> int:
    """Run ``photo3d ARGV`` in a process whose files may not grow past ``limit`` bytes: a write
    fails with EFBIG part-way through the result set, as on a full disk."""
    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ itself

    with open(log, "wb") as fh:
        return subprocess.run([sys.executable, "-c", PYTHON_MAIN, *map(str, argv)], stdout=fh, stderr=subprocess.STDOUT,
                              preexec_fn=cap, timeout=600).returncode


def _cases(cube_case, tmp_path):
    asset, ref = cube_case
    views = tmp_path / "views"
    render = ["render", asset, "--resolution", "64", "--backend", "torch", "--save-views"]
    return {
        "enhance": (["enhance", asset, "-r", ref, "-o", "{out}", *ENHANCE_FAST], "{out}", ["--seed", "7"]),
        "texture": (["texture", asset, "--prompt", "oak", "--model", "testing-views", "--weights", "tiny", "-o",
                     "{out}", "--texture-size", "64", "--preview-resolution", "48", "--no-turntable", "--no-progress",
                     "--backend", "torch"], "{out}", ["--seed", "7"]),
        "render": ([*render, "-o", "{out}/grid.png"], "{out}", ["--background", "black"]),
        "bake": (["bake", asset, "--views", views, "-o", "{out}/baked.glb", "--texture-size", "64", "--backend",
                  "torch"], "{out}", ["--exponent", "2"]),
        "train": (["train", "coupled", "--data", MV_TINY, "--out", "{out}", "--encoders", "tiny", "--resolution",
                   "32", "--steps", "1", "--preview-every", "0", "--no-final-samples", "--width", "16", "--depth", "1",
                   "--voxel-resolution", "8"], "{out}", None),
    }


@pytest.mark.parametrize("command", ["enhance", "texture", "render", "bake", "train"])
def test_a_write_failing_mid_set_is_one_line_and_keeps_the_previous_set(command, cube_case, tmp_path, capsys):
    """Guards: a full disk in the middle of writing gave a traceback and half a result set (an
    ``enhanced.glb`` beside the previous run's files, no ``record.json``). Now: one line naming the
    file, exit 2, and the folder exactly as the previous complete run left it."""
    from photo3d.cameras import rig_cameras
    from photo3d.grid import split_grid
    from photo3d.io import atomic_write_json, load_image, save_image

    if command == "bake":  # a folder of the cube's views to bake
        for i, view in enumerate(split_grid(load_image(cube_case[1], "RGB"))):
            save_image(tmp_path / "views" / f"view_{i}.png", view)
        atomic_write_json(tmp_path / "views" / "cameras.json", rig_cameras(48).to_json())
    argv, folder, change = _cases(cube_case, tmp_path)[command]
    out = tmp_path / "out"
    argv = [a.format(out=out) if isinstance(a, str) else a for a in argv]
    if change is not None:  # a complete first run, then a different one that cannot finish writing
        code, _, err = run(argv, capsys)
        assert code == 0, err
        argv = argv + change
    before = snapshot(out)
    code = _limited(argv, 8 * 1024, tmp_path / "log")
    log = (tmp_path / "log").read_text().strip().splitlines()
    errors = [line for line in log if line.startswith(f"photo3d {command}: error:")]
    assert code == 2 and len(errors) == 1, log
    assert "Traceback" not in "\n".join(log) and "file too large" in errors[0], log
    after = snapshot(out)
    if change is not None:
        assert after == before  # the previous complete set, byte for byte
    else:  # an incremental run (training): what was written is complete, nothing temporary is left
        assert not [p for p in after if p.rsplit("/", 1)[-1].startswith(".") and p.endswith(".tmp")], sorted(after)
        assert not any(p.startswith("checkpoints/step_") for p in after)  # the checkpoint did not fit


def test_generate_with_a_full_disk_after_the_first_files_keeps_the_previous_set(tmp_path, capsys, monkeypatch):
    """Guards: ``photo3d generate`` wrote each file in place, so a disk filling up after
    ``gaussians.ply`` and ``slat.npz`` (its largest files come first, so a per-file size limit cannot
    show it) left the new Gaussians beside the previous run's renders and ``record.json``. Now the
    set is staged: one line naming the file, exit 2, the folder exactly as the previous run left it."""
    import errno

    import torch

    import photo3d.trellis.generate as gen
    from photo3d.io import save_image

    photo = torch.ones(3, 96, 96)
    photo[:, 24:72, 30:66] = torch.tensor([0.7, 0.25, 0.15])[:, None, None]
    save_image(tmp_path / "photo.png", photo)
    out = tmp_path / "out"
    argv = ["generate", tmp_path / "photo.png", "--weights", "tiny", "--ss-steps", "2", "--slat-steps", "2",
            "--resolution", "32", "--device", "cpu", "-o", out]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    before = snapshot(out)

    def full_disk(path, *a, **kw):
        if str(path).endswith("turntable.png"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return save_image(path, *a, **kw)

    monkeypatch.setattr(gen, "save_image", full_disk)
    code, _, err = run([*argv, "--seed", "7"], capsys)
    lines = error_lines(err, "generate")
    assert code == 2 and len(lines) == 1 and "turntable.png: cannot write (no space left" in lines[0], err
    assert snapshot(out) == before  # the previous complete set, byte for byte
