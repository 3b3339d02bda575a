"""The HTML report, checked in a real headless browser when chromium is installed."""

import re
import shutil
import time
from pathlib import Path

import pytest
from eval_helpers import make_enhance_dir

from photo3d.eval.harness import run_eval
from photo3d.eval.report import write_report
from photo3d.eval.suite import Suite

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    root = make_enhance_dir(tmp / "enhance", n=2, glb=True)
    run_eval(
        [(None, root)],
        Suite(metrics=("psnr", "ssim", "silhouette_iou", "lpips"), n_bootstrap=50),
        tmp / "out",
        progress=False,
    )
    return tmp / "out"


def test_report_is_self_contained(results_dir, tmp_path):
    page = write_report(results_dir, tmp_path / "report.html").read_text()
    assert "<model-viewer" in page and 'customElements.define("model-viewer"' in page
    assert "data:model/gltf-binary;base64," in page and "data:image/png;base64," in page
    assert not re.search(r"(src|href)=['\"]https?://", page)  # nothing from the network
    assert "<svg" in page and "unavailable" in page and "psnr" in page


def test_report_sibling_assets(results_dir, tmp_path):
    page = write_report(results_dir, tmp_path / "r.html", assets="sibling").read_text()
    assert "r_files/model-viewer.min.js" in page and (tmp_path / "r_files" / "model-viewer.min.js").is_file()
    assert "data:image/png" not in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(results_dir, tmp_path):
    import numpy as np
    from browser_pipe import PipeBrowser
    from PIL import Image

    html = write_report(results_dir, tmp_path / "report.html")
    with PipeBrowser(CHROMIUM, tmp_path / "profile", width=1300, height=1700) as browser:
        browser.navigate(html.resolve().as_uri())
        # wait (real time) until every <model-viewer> loaded its GLB and shows it
        loaded = browser.wait_for(
            "(() => { const v = [...document.querySelectorAll('model-viewer')];"
            " return v.length === 2 && v.every(m => m.loaded && m.modelIsVisible); })()"
        )
        assert loaded, "model-viewer did not load and show both GLBs"
        time.sleep(1.0)  # let the first frames reach the compositor
        rect = browser.evaluate(
            "(() => { const r = document.querySelector('model-viewer').getBoundingClientRect();"
            " return [r.left, r.top, r.right, r.bottom]; })()"
        )
        page_errors = browser.evaluate("window.__p3d.errors")
        shot = browser.screenshot(tmp_path / "report.png")
        errors = list(browser.errors)
    assert errors == [] and page_errors == [], f"console errors: {errors + page_errors}"
    outputs = REPO / "outputs"
    outputs.mkdir(exist_ok=True)
    shutil.copy(shot, outputs / "report_screenshot.png")
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    left, top, right, bottom = (int(round(v)) for v in rect)
    assert bottom <= img.shape[0], "the viewer is outside the screenshot"
    region = img[top + 2 : bottom - 2, left + 2 : right - 2]
    # the viewer background is #fafafa; the textured sugar box is far from it
    drawn = np.abs(region - 250).sum(-1) > 60
    assert drawn.mean() > 0.05, (
        f"the 3D model is not visible in the viewer ({drawn.mean():.3f} of its pixels)"
    )
    # the tables and grids rendered too: the page above the viewer is not blank
    assert (np.abs(img[:top] - 255).sum(-1) > 60).mean() > 0.01


def test_every_value_is_escaped(tmp_path):
    root = make_enhance_dir(tmp_path / "enhance", n=1)
    evil = "x<script>alert(1)</script>'\""
    run_eval([(evil, root)], Suite(metrics=("psnr", "lpips"), n_bootstrap=10), tmp_path / "out", progress=False)
    page = write_report(tmp_path / "out", tmp_path / "r.html", assets="sibling").read_text()
    assert "<script>alert(1)" not in page and "x&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"\bsrc=[^'\"]", page)  # every src attribute is quoted
    srcs = re.findall(r'\bsrc="([^"]*)"', page)
    assert srcs and all("<" not in s and '"' not in s for s in srcs)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_results_table_fits_a_1280px_page(tmp_path):
    """Every metric of the suite and four methods: the results table used to be one column per
    metric (about 1570 px wide at 1280 px); it is one row per metric now."""
    from browser_pipe import PipeBrowser
    from eval_helpers import TinyFeatures

    from photo3d.eval.suite import DEFAULT_METRICS

    roots = [make_enhance_dir(tmp_path / name, n=3) for name in ("baseline-generator", "photo3d-finetuned")]
    metrics = tuple(m for m in DEFAULT_METRICS if m != "judge")
    run_eval([(p.name, p) for p in roots], Suite(metrics=metrics, n_bootstrap=20, references=str(roots[0])),
             tmp_path / "out", progress=False, features=TinyFeatures())
    html = write_report(tmp_path / "out", tmp_path / "report.html")
    with PipeBrowser(CHROMIUM, tmp_path / "profile", width=1280, height=1200) as browser:
        browser.navigate(html.resolve().as_uri())
        assert browser.wait_for("document.readyState === 'complete'", timeout=60)
        page_width = browser.evaluate("document.documentElement.scrollWidth")
        rights = browser.evaluate(
            "[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right)")
        headers = browser.evaluate("document.querySelector('table tr').children.length")
    assert page_width <= 1280 and max(rights) <= 1280, (page_width, rights)
    assert headers == 1 + 4  # metric + four methods (before/after of two folders)
