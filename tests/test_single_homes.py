"""Each shared concept (masks, tone, metrics, image I/O, devices, ...) has exactly one definition."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_single_homes.py"
_spec = importlib.util.spec_from_file_location("check_single_homes", SCRIPT)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def test_no_concept_is_defined_twice():
    bad = check.violations()
    assert not bad, "\n".join(bad)


def test_the_guard_sees_a_second_definition(tmp_path):
    pkg = tmp_path / "src" / "photo3d" / "losses"
    pkg.mkdir(parents=True)
    (tmp_path / "scripts").mkdir()
    (pkg / "extra.py").write_text("def foreground_mask(x):\n    return x < 250 / 255\n")
    bad = check.violations(tmp_path)
    assert any("extra.py:1: the foreground mask" in b for b in bad)
    assert any("extra.py:2: a comparison with the 250/255 level" in b for b in bad)
