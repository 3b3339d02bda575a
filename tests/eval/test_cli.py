import json
import subprocess
import sys

from eval_helpers import make_enhance_dir

from photo3d.cli import main


def test_eval_and_report_commands(tmp_path, capsys):
    root = make_enhance_dir(tmp_path / "enh", n=2)
    out = tmp_path / "out"
    rc = main(
        ["eval", str(root), "-o", str(out), "--metrics", "psnr", "ssim", "--n-bootstrap", "50", "--quiet"]
    )
    assert rc == 0
    assert "after (2 items): psnr" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    assert res["suite"]["n_bootstrap"] == 50 and set(res["methods"]) == {"before", "after"}
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
    assert "<table>" in (tmp_path / "r.html").read_text()


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such folder" in err
    assert main(["eval", "--method", "nameonly", "-o", str(tmp_path / "o")]) == 2
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2


def test_eval_cli_modules_do_not_import_torch():
    code = (
        "import argparse, sys; import photo3d.cli.eval as e, photo3d.cli.report as r; "
        "sub = argparse.ArgumentParser().add_subparsers(); e.register(sub); r.register(sub); "
        "print('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_eval_without_bootstrap(tmp_path, capsys):
    root = make_enhance_dir(tmp_path / "enh", n=2)
    out = tmp_path / "out"
    assert main(["eval", str(root), "-o", str(out), "--metrics", "psnr", "--n-bootstrap", "0", "--quiet"]) == 0
    psnr = json.loads((out / "results.json").read_text())["methods"]["after"]["metrics"]["psnr"]
    assert psnr["value"] is not None and psnr["ci_low"] is None and "n_bootstrap = 0" in psnr["ci_reason"]
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
    assert "no CI" in (tmp_path / "r.html").read_text()
    assert main(["eval", str(root), "-o", str(tmp_path / "o2"), "--n-bootstrap", "-1"]) == 2
    assert "n_bootstrap" in capsys.readouterr().err
