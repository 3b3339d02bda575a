"""Helpers of the reliability suite: running commands in-process or as real processes, small inputs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
EXAMPLES = TESTS.parent / "src" / "photo3d" / "examples"
SUGAR_BOX = EXAMPLES / "ycb_004_sugar_box" / "004_sugar_box_1k.glb"
MV_TINY = EXAMPLES / "mv_tiny"

# enhance as cheap as it gets: 48 px, tiny random encoders, one step
ENHANCE_FAST = ["--resolution", "48", "--steps", "1", "--encoders", "tiny", "--n-crops", "2", "--match-size", "48",
                "--no-progress", "--no-turntable"]
# the coupled trainer as cheap as it gets (mv_tiny, 32 px)
TRAIN_FAST = ["--encoders", "tiny", "--resolution", "32", "--steps", "2", "--ckpt-every", "1", "--preview-every", "0",
              "--no-final-samples", "--width", "16", "--depth", "1", "--voxel-resolution", "8"]
PYTHON_MAIN = "import sys; from photo3d.cli import main; sys.exit(main())"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


cube = _load("reliability_cube_asset", TESTS / "enhance" / "cube_asset.py")


def run(argv: list[str], capsys) -> tuple[int, str, list[str]]:
    """``photo3d ARGV`` in this process: ``(exit status, stdout, stderr lines)``.

    An exception escaping ``main`` (a traceback for a user) fails the calling test by itself.
    """
    from photo3d.cli import main

    capsys.readouterr()
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, [line for line in cap.err.splitlines() if line.strip()]


def error_lines(err: list[str], command: str) -> list[str]:
    """The ``photo3d COMMAND: error:`` lines (progress bars and notes left out)."""
    return [line for line in err if line.startswith(f"photo3d {command}: error:")]


def spawn(argv: list[str], log: Path, **kw) -> subprocess.Popen:
    """``photo3d ARGV`` as a separate process (stdout + stderr into ``log``)."""
    fh = open(log, "wb")
    return subprocess.Popen([sys.executable, "-c", PYTHON_MAIN, *map(str, argv)], stdout=fh, stderr=subprocess.STDOUT,
                            **kw)


def python(code: str, log: Path, **kw) -> subprocess.Popen:
    """A Python snippet as a separate process (stdout + stderr into ``log``)."""
    fh = open(log, "wb")
    return subprocess.Popen([sys.executable, "-c", code], stdout=fh, stderr=subprocess.STDOUT, **kw)


def wait_for(predicate, proc: subprocess.Popen | None = None, timeout: float = 120.0) -> bool:
    """Poll ``predicate`` until it holds (False when ``proc`` ended first or on timeout)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return bool(predicate())
        time.sleep(0.05)
    return False


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), hidden bookkeeping files included."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def visible(folder: Path) -> set[str]:
    """Names of the non-hidden entries directly in ``folder``."""
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")} if folder.exists() else set()


def copy_mv_tiny(dst: Path) -> Path:
    shutil.copytree(MV_TINY, dst)
    return dst


def make_read_only(path: Path):
    """Make ``path`` unwritable even for root (``chattr +i``); returns an undo function, or None."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return lambda: path.chmod(0o755)
    if shutil.which("chattr") is None:
        return None
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        return None
    return lambda: subprocess.run(["chattr", "-i", str(path)], capture_output=True)
