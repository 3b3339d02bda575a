"""`photo3d train coupled` option checks: bad values stop before any work, as one line."""

from __future__ import annotations

import pytest

from photo3d.cli import main


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--t-min", "1.0", "t_min < t_max"), ("--cfg-dropout", "1.5", "cfg_dropout")],
)
def test_out_of_range_options_fail_with_one_line(mv_tiny, tmp_path, capsys, option, value, message):
    """Range checks of CoupledConfig raised a bare ValueError, which printed a traceback."""
    rc = main(["train", "coupled", "--data", str(mv_tiny), "--out", str(tmp_path / "run"),
               "--encoders", "tiny", "--steps", "1", option, value])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run" / "checkpoints").exists()
