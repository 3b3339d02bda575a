import json

import pytest
from eval_helpers import TinyFeatures, make_enhance_dir

from photo3d.errors import InputError
from photo3d.eval.harness import Harness, run_eval
from photo3d.eval.sources import discover
from photo3d.eval.suite import Suite

CHEAP = ("psnr", "ssim", "silhouette_iou", "edge_f", "fid", "kid", "lpips")


def _suite(**kw):
    return Suite(
        metrics=kw.pop("metrics", CHEAP), n_bootstrap=kw.pop("n_bootstrap", 100), kid_subsets=5, **kw
    )


def test_discover_enhance_gives_before_and_after(enhance_root):
    before, after = discover(enhance_root)
    assert (before.name, after.name) == ("before", "after")
    assert before.ids() == ["obj0", "obj1", "obj2"] and set(after.gt) == {"obj0", "obj1", "obj2"}


def test_enhance_before_vs_after_with_cis(enhance_root, tmp_path):
    out = tmp_path / "out"
    res = run_eval([(None, enhance_root)], _suite(), out, features=TinyFeatures(), progress=False)
    after, before = res["methods"]["after"], res["methods"]["before"]
    assert after["metrics"]["psnr"]["value"] > before["metrics"]["psnr"]["value"]
    ci = after["metrics"]["psnr"]
    assert ci["ci_low"] <= ci["value"] <= ci["ci_high"] and ci["n"] == 3
    assert after["metrics"]["lpips"]["status"] == "unavailable"
    assert after["set_metrics"]["kid_subset_size"] == 12  # 3 items x 4 views
    assert after["set_metrics"]["fid"]["value"] < before["set_metrics"]["fid"]["value"]
    comp = res["comparisons"][0]
    assert (comp["a"], comp["b"]) == ("before", "after")
    assert comp["metrics"]["psnr"]["value"] > 0 and comp["metrics"]["psnr"]["ci_low"] > 0
    assert res["metrics"]["fid"]["model"] == TinyFeatures.name  # the model that actually ran is recorded
    rows = [json.loads(ln) for ln in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["method"] for r in rows} == {"before", "after"}
    assert (out / rows[0]["media"]["grid"]).is_file() and (out / rows[0]["media"]["reference"]).is_file()
    saved = json.loads((out / "results.json").read_text())
    assert saved["suite"]["metrics"] == list(CHEAP) and Suite.from_json(saved["suite"]) == _suite()


def test_resume_skips_scored_items(enhance_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    suite = _suite(metrics=("psnr",))
    run_eval([(None, enhance_root)], suite, out, progress=False)
    lines = (out / "results.jsonl").read_text().splitlines()
    # simulate an interrupted run: drop the last row, then rerun and count what gets scored
    (out / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    scored = []
    orig = Harness._score
    monkeypatch.setattr(Harness, "_score", lambda self, s, i: scored.append((s.name, i)) or orig(self, s, i))
    res = run_eval([(None, enhance_root)], suite, out, progress=False)
    assert scored == [tuple(json.loads(lines[-1])[k] for k in ("method", "id"))]
    assert len((out / "results.jsonl").read_text().splitlines()) == 6
    assert res["methods"]["after"]["n_items"] == 3
    scored.clear()
    run_eval([(None, enhance_root)], suite, out, progress=False)
    assert scored == []
    with pytest.raises(InputError, match="different suite"):
        run_eval([(None, enhance_root)], _suite(metrics=("ssim",)), out, progress=False)


def test_compare_named_grid_folders(tmp_path):
    root = make_enhance_dir(tmp_path / "e", n=2)
    a, b, gt = tmp_path / "a", tmp_path / "b", tmp_path / "gt"
    for d in (a, b, gt):
        d.mkdir()
    for k in range(2):
        (a / f"grid_{k}.png").write_bytes((root / f"obj{k}" / "grid_before.png").read_bytes())
        (b / f"grid_{k}.png").write_bytes((root / f"obj{k}" / "grid_after.png").read_bytes())
        (gt / f"grid_{k}.png").write_bytes((root / f"obj{k}" / "grid_reference.png").read_bytes())
    res = run_eval(
        [("base", a), ("ours", b)],
        _suite(metrics=("psnr", "judge"), references=str(gt)),
        tmp_path / "out",
        progress=False,
    )
    comp = res["comparisons"][0]
    assert (comp["a"], comp["b"], comp["n_common"]) == ("base", "ours", 2)
    assert comp["metrics"]["psnr"]["value"] > 0
    assert comp["judge"]["status"] == "unavailable"  # no endpoint configured: no number


def test_unknown_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="found no"):
        discover(tmp_path / "empty")


def test_judge_in_compare_mode_is_resumable(enhance_root, tmp_path, monkeypatch):
    server_mod = pytest.importorskip("photo3d.testing.openai_server")
    from test_judge import detail_responder

    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-never-logged")
    out = tmp_path / "out"
    with server_mod.FakeOpenAIServer(chat_responder=detail_responder) as srv:
        suite = _suite(
            metrics=("psnr", "judge"),
            judge_url=srv.base_url,
            judge_model="fake-llm",
            judge_api_key_env="JUDGE_TEST_KEY",
        )
        res = run_eval([(None, enhance_root)], suite, out, progress=False)
        judge = res["comparisons"][0]["judge"]
        assert judge["n_valid"] == 3 and judge["value"] == 1.0  # the detailed "after" grid always wins
        calls = srv.calls["chat"]
        run_eval([(None, enhance_root)], suite, out, progress=False)
        assert srv.calls["chat"] == calls  # verdicts are cached in judge.jsonl
    for f in out.rglob("*.json*"):
        assert "sk-never-logged" not in f.read_text()


def test_rows_are_appended_and_a_torn_row_is_rescored(enhance_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    suite = _suite(metrics=("psnr",))
    import photo3d.eval.harness as harness

    appended, real_append = [], harness.append_jsonl
    monkeypatch.setattr(harness, "append_jsonl", lambda path, rows: appended.append(len(rows)) or real_append(path, rows))
    run_eval([(None, enhance_root)], suite, out, progress=False)
    assert appended == [1] * 6  # one row per item, never a rewrite of the file
    text = (out / "results.jsonl").read_text()
    (out / "results.jsonl").write_text(text[: len(text) - 20])  # killed in the middle of the last append
    res = run_eval([(None, enhance_root)], suite, out, progress=False)
    rows = [json.loads(ln) for ln in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and len({(r["method"], r["id"]) for r in rows}) == 6
    assert res["methods"]["after"]["n_items"] == 3


def test_fid_kid_value_and_interval_come_from_one_estimator(tmp_path):
    """With few items the interval used to be a zero-width range that missed the reported
    (torchmetrics) value, e.g. 247.3 [247.3, 247.3]; now there is no interval below 10 items and
    from 10 on the interval contains the value."""
    from photo3d.eval.metrics.distribution import MIN_ITEMS_FOR_CI

    results = {}
    for n in (3, 12):
        root = make_enhance_dir(tmp_path / f"e{n}", n=n)
        res = run_eval([(None, root)], Suite(metrics=("fid", "kid"), n_bootstrap=200, references=str(root)),
                       tmp_path / f"out{n}", progress=False, features=TinyFeatures())
        results[n] = res["methods"]["before"]["set_metrics"]
    for name in ("fid", "kid"):
        few, many = results[3][name], results[12][name]
        assert few["ci_low"] is None and "too few items" in few["ci_reason"] and 3 < MIN_ITEMS_FOR_CI
        assert many["ci_low"] < many["value"] < many["ci_high"], (name, many)
