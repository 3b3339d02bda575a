"""``photo3d report``: one self-contained HTML page from ``photo3d eval`` results.

The page is the Jinja2 template ``templates/report.html.j2`` rendered with autoescaping: every
value from the results (names, definitions, reasons, file URLs) is escaped; only the page's own
CSS and scripts and the inline SVG plots (which escape their inputs) are passed as markup.

The page holds the metric definitions (with the model that produced each number, or why it is
unavailable), per-method tables with bootstrap CIs, paired comparisons and the judge's win rate,
inline-SVG plots, the grids side by side and an interactive 3D viewer of the GLBs. The viewer is
``@google/model-viewer`` (Apache-2.0), vendored in ``photo3d/eval/static/`` (see its NOTICE), so
the page works offline. Images, GLBs and the script are data URIs (``assets="inline"``) or files
in a folder beside the page (``assets="sibling"``).

A small script in the page records JavaScript errors and model-viewer load events into a hidden
``#p3d-status`` element (``data-errors``, ``data-models-loaded``), which the browser test reads.
"""

from __future__ import annotations

import base64
import json
import math
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from photo3d._optional import require
from photo3d.errors import InputError
from photo3d.io import atomic_write_bytes, atomic_write_text, read_jsonl
from photo3d.io.output import open_output
from photo3d.io.text import expect_object, read_json

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".glb": "model/gltf-binary", ".js": "text/javascript"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.na{color:#999;font-style:italic}.small{font-size:12px;color:#555}.plots{display:flex;flex-wrap:wrap;gap:12px}
.item{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;margin:10px 0;padding:8px;border:1px solid #eee}
figure{margin:0}figure img{width:256px;height:256px;image-rendering:auto;border:1px solid #ddd;background:#fff}
figure img.wide{width:512px}figcaption{font-size:12px;color:#555}
model-viewer{width:320px;height:320px;background:#fafafa;border:1px solid #ddd}
.better{color:#1a7f37}.worse{color:#c62828}code{font-size:12px}
.wide-table{max-width:100%;overflow-x:auto}td .ci{display:block;font-size:12px;color:#555;white-space:nowrap}
td.def{max-width:560px}td.model{max-width:260px;overflow-wrap:anywhere}
"""

STATUS_JS = """
(function(){var st={errors:[],loaded:0};window.__p3d=st;
function put(){var el=document.getElementById('p3d-status');if(!el)return;el.dataset.errors=String(st.errors.length);
el.dataset.modelsLoaded=String(st.loaded);el.textContent=st.errors.join('\\n');}
window.addEventListener('error',function(e){st.errors.push('error: '+(e.message||e.type));put();},true);
window.addEventListener('unhandledrejection',function(e){st.errors.push('rejection: '+e.reason);put();});
var ce=console.error;console.error=function(){st.errors.push('console.error: '+Array.from(arguments).join(' '));
put();ce.apply(console,arguments);};
document.addEventListener('DOMContentLoaded',function(){put();document.querySelectorAll('model-viewer').forEach(
function(mv){mv.addEventListener('load',function(){st.loaded++;mv.dataset.loaded='1';put();});
mv.addEventListener('error',function(e){st.errors.push('model-viewer: '+JSON.stringify(e.detail||{}));put();});});});
})();
"""


def load_results(path: str | Path) -> tuple[dict, list[dict], Path]:
    """``(results.json content, rows of results.jsonl, results folder)`` from a folder or file."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    res_path = path / "results.json" if path.is_dir() else path
    if not res_path.is_file():
        raise InputError(f"{res_path}: no results.json; run `photo3d eval ... -o {folder}` first")
    results = expect_object(read_json(res_path, "results file", "rerun `photo3d eval` to write it again"), res_path)
    rows = read_jsonl(folder / results.get("rows", "results.jsonl"))
    return results, rows, folder


class _Assets:
    """Turns files into URLs: data URIs, or copies in ``<report>_files/``."""

    def __init__(self, mode: str, out: Path) -> None:
        self.mode, self.out = mode, out
        self.dir = out.parent / f"{out.stem}_files"

    def url(self, path: Path, name: str | None = None) -> str:
        data = path.read_bytes()
        if self.mode == "inline":
            mime = MIME.get(path.suffix.lower(), "application/octet-stream")
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        rel = name or path.name
        atomic_write_bytes(self.dir / rel, data)
        return f"{self.dir.name}/{rel}"


def _num(v) -> float | None:
    if isinstance(v, (int, float)):
        return float(v)
    if v in ("inf", "-inf", "nan"):
        return float(v)
    return None


def _cell(agg) -> dict[str, Any]:
    """A table cell: ``value`` (+ ``ci``, or ``ci_na``: why there is none), or ``na`` (why unavailable),
    or ``missing``."""
    cell: dict[str, Any] = {"value": None, "ci": None, "ci_na": None, "na": None, "missing": False}
    if not isinstance(agg, dict):
        v = _num(agg)
        return {**cell, "missing": True} if v is None else {**cell, "value": f"{v:.4g}"}
    if agg.get("status") == "unavailable":
        return {**cell, "na": agg.get("reason", "")}
    v = _num(agg.get("value"))
    if v is None:
        return {**cell, "missing": True}
    lo, hi = _num(agg.get("ci_low")), _num(agg.get("ci_high"))
    if lo is not None and hi is not None:
        return {**cell, "value": f"{v:.4g}", "ci": f"[{lo:.4g}, {hi:.4g}]"}
    return {**cell, "value": f"{v:.4g}", "ci_na": agg.get("ci_reason")}


def _direction(higher_is_better: bool | None) -> str:
    return "→ 1" if higher_is_better is None else ("↑" if higher_is_better else "↓")


def _definitions(results: dict) -> list[dict]:
    return [{"name": name, "definition": d.get("definition", ""), "model": str(d.get("model", "")),
             "direction": _direction(d.get("higher_is_better")),
             "na": d.get("reason", "") if d.get("status") == "unavailable" else None}
            for name, d in results.get("metrics", {}).items()]


def _methods(results: dict) -> tuple[list[dict], list[dict]]:
    """``(methods, rows)`` of the results table: one column per method, one row per metric.

    Metrics run down the page (there are about fifteen) and methods across (usually a few), so the
    table fits a 1280-px page; each cell puts its CI on a second line.
    """
    defs = results.get("metrics", {})
    names = [n for n, d in defs.items() if d.get("kind") != "pairwise"]
    methods, cells = [], []
    for name, m in results.get("methods", {}).items():
        methods.append({"name": name, "kind": m.get("kind", ""), "n_items": m.get("n_items", 0)})
        cells.append({**m.get("metrics", {}), **m.get("set_metrics", {})})
    rows = [{"name": n, "direction": _direction(defs[n].get("higher_is_better")),
             "cells": [_cell(c[n]) if n in c else None for c in cells]} for n in names]
    return methods, rows


def _comparisons(results: dict, by_method: dict[str, dict[str, dict]], svg) -> list[dict]:
    defs = results.get("metrics", {})
    out = []
    for comp in results.get("comparisons", []):
        a, b = comp["a"], comp["b"]
        rows = []
        for name, d in comp.get("metrics", {}).items():
            cls = ""
            v = _num(d.get("value")) if isinstance(d, dict) else None
            if v is not None and isinstance(d.get("ci_low"), (int, float)) and math.isfinite(v):
                up = defs.get(name, {}).get("higher_is_better", True)
                if up is not None and (d["ci_low"] > 0 or d["ci_high"] < 0):
                    cls = "better" if (d["ci_low"] > 0) == up else "worse"
            rows.append({"name": name, "cell": _cell(d), "cls": cls,
                         "n": d.get("n", "–") if isinstance(d, dict) else "–"})
        judge = comp.get("judge")
        if judge is not None:
            judge = {"na": judge.get("reason", "") if judge.get("status") == "unavailable" else None,
                     "cell": _cell(judge), "n": judge.get("n_valid", "–"),
                     **{k: judge.get(k) for k in ("wins_a", "wins_b", "ties", "invalid")}}
        ra, rb = by_method.get(a, {}), by_method.get(b, {})
        plots = []
        for name in comp.get("metrics", {}):
            pairs = [(_num(ra[i]["metrics"].get(name)), _num(rb[i]["metrics"].get(name))) for i in ra if i in rb]
            plot = svg.scatter_plot(name, a, b, [(x, y) for x, y in pairs if x is not None and y is not None])
            if plot:
                plots.append(plot)
        out.append({"a": a, "b": b, "n_common": comp.get("n_common", 0), "rows": rows, "judge": judge,
                    "plots": plots})
    return out


def _distributions(results: dict, by_method: dict[str, dict[str, dict]], svg) -> list[str]:
    plots = []
    methods = results.get("methods", {})
    for name, d in results.get("metrics", {}).items():
        if d.get("kind") != "per_item":
            continue
        series = {m: [v for r in by_method.get(m, {}).values() if (v := _num(r["metrics"].get(name))) is not None]
                  for m in methods}
        cis = {m: methods[m].get("metrics", {}).get(name, {}) for m in methods}
        plot = svg.strip_plot(name, series, cis)
        if plot:
            plots.append(plot)
    return plots


def _items(rows: list[dict], folder: Path, assets: _Assets, max_items: int) -> list[dict]:
    by_item: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_item[r["id"]].append(r)
    out = []
    for item_id in list(by_item)[:max_items]:
        item_rows = by_item[item_id]
        figures, viewers = [], []
        ref = next((r["media"]["reference"] for r in item_rows if r.get("media", {}).get("reference")), None)
        if ref and (folder / ref).is_file():
            figures.append({"label": "reference", "src": assets.url(folder / ref, ref.replace("/", "_")), "wide": False})
        for r in item_rows:
            media, m = r.get("media", {}), r["method"]
            for key, label, wide in (("grid", m, False), ("heldout", f"{m} (held-out views)", True)):
                if media.get(key) and (folder / media[key]).is_file():
                    src = assets.url(folder / media[key], media[key].replace("/", "_"))
                    figures.append({"label": label, "src": src, "wide": wide})
            if media.get("glb") and (folder / media["glb"]).is_file():
                viewers.append({"label": m, "src": assets.url(folder / media["glb"], media["glb"].replace("/", "_"))})
        out.append({"id": item_id, "figures": figures, "viewers": viewers})
    return out


def model_viewer_js() -> bytes:
    """The vendored ``@google/model-viewer`` bundle (three.js included)."""
    return resources.files("photo3d.eval").joinpath("static/model-viewer.min.js").read_bytes()


def _template():
    jinja2 = require("jinja2", "the HTML report")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    source = resources.files("photo3d.eval").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    return env.from_string(source)


def render_report(
    results_path: str | Path,
    out: str | Path,
    assets: str = "inline",
    title: str | None = None,
    max_items: int = 200,
) -> str:
    """Build the report HTML (side files are written when ``assets="sibling"``)."""
    from photo3d.eval import svg

    from markupsafe import Markup as trusted  # content the page itself provides, never results data

    template = _template()
    results, rows, folder = load_results(results_path)
    out = Path(out)
    urls = _Assets(assets, out)
    script: dict[str, Any] = {"inline": None, "src": None}
    if any(r.get("media", {}).get("glb") for r in rows):
        js = model_viewer_js()
        if assets == "inline" and b"<script" not in js.lower() and b"</script" not in js.lower():
            script["inline"] = trusted(js.decode("utf-8"))
        elif assets == "inline":  # cannot sit inside a <script> element verbatim
            script["src"] = f"data:text/javascript;base64,{base64.b64encode(js).decode()}"
        else:
            atomic_write_bytes(urls.dir / "model-viewer.min.js", js)
            script["src"] = f"{urls.dir.name}/model-viewer.min.js"
    by_method: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        by_method[r["method"]][r["id"]] = r
    suite = results.get("suite", {})
    methods, result_rows = _methods(results)
    return template.render(
        title=title or f"photo3d evaluation: {suite.get('name', '')}",
        css=trusted(CSS), status_js=trusted(STATUS_JS), script=script,
        created=results.get("created", ""), fingerprint=results.get("suite_fingerprint", ""),
        confidence_pct=int(round(suite.get("confidence", 0.95) * 100)), n_bootstrap=suite.get("n_bootstrap", ""),
        methods=methods, result_rows=result_rows,
        comparisons=[{**c, "plots": [trusted(p) for p in c["plots"]]}
                     for c in _comparisons(results, by_method, svg)],
        distributions=[trusted(p) for p in _distributions(results, by_method, svg)],
        items=_items(rows, folder, urls, max_items),
        definitions=_definitions(results),
        suite_json=json.dumps(suite, indent=1),
    )


def write_report(
    results_path: str | Path,
    out: str | Path = "report.html",
    assets: str = "inline",
    title: str | None = None,
) -> Path:
    """Write the report for a ``photo3d eval`` folder (or its results.json) to ``out``.

    The page (and with ``assets="sibling"`` its ``<out>_files/`` folder) is staged and appears as
    one set (:func:`photo3d.io.output.open_output`).

    Args:
        results_path: results folder or results.json.
        out: the HTML file.
        assets: ``"inline"`` (one self-contained file) or ``"sibling"`` (``<out>_files/`` beside it).
        title: page title.
    """
    if assets not in ("inline", "sibling"):
        raise InputError(f"assets must be 'inline' or 'sibling', got {assets!r}")
    with open_output(out, "file") as output:  # the page and its side folder appear together
        atomic_write_text(output.file, render_report(results_path, output.file, assets, title))
    return output.target
