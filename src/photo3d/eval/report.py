"""``photo3d report``: one self-contained HTML page from ``photo3d eval`` results.

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
import html
import json
import math
from importlib import resources
from pathlib import Path

from photo3d.errors import InputError
from photo3d.io import atomic_write_bytes, atomic_write_text

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".glb": "model/gltf-binary", ".js": "text/javascript"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.na{color:#999;font-style:italic}.small{font-size:12px;color:#555}.plots{display:flex;flex-wrap:wrap;gap:12px}
.item{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;margin:10px 0;padding:8px;border:1px solid #eee}
figure{margin:0}figure img{width:256px;height:256px;image-rendering:auto;border:1px solid #ddd;background:#fff}
figure img.wide{width:512px}figcaption{font-size:12px;color:#555}
model-viewer{width:320px;height:320px;background:#fafafa;border:1px solid #ddd}
.better{color:#1a7f37}.worse{color:#c62828}code{font-size:12px}
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
    results = json.loads(res_path.read_text(encoding="utf-8"))
    rows_path = folder / results.get("rows", "results.jsonl")
    rows = (
        [json.loads(ln) for ln in rows_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if rows_path.is_file()
        else []
    )
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


def _fmt_value(agg) -> str:
    if not isinstance(agg, dict):
        v = _num(agg)
        return "–" if v is None else f"{v:.4g}"
    if agg.get("status") == "unavailable":
        return f'<span class="na" title="{html.escape(agg.get("reason", ""))}">unavailable</span>'
    v = _num(agg.get("value"))
    if v is None:
        return "–"
    s = f"{v:.4g}"
    lo, hi = _num(agg.get("ci_low")), _num(agg.get("ci_high"))
    if lo is not None and hi is not None:
        s += f' <span class="small">[{lo:.4g}, {hi:.4g}]</span>'
    return s


def _direction(higher_is_better: bool | None) -> str:
    return "→ 1" if higher_is_better is None else ("↑" if higher_is_better else "↓")


def _metric_table(results: dict) -> str:
    rows = ["<tr><th>metric</th><th>definition</th><th>model</th><th>better</th><th>status</th></tr>"]
    for name, d in results.get("metrics", {}).items():
        status = (
            f'<span class="na">unavailable: {html.escape(d.get("reason", ""))}</span>'
            if d.get("status") == "unavailable"
            else "ok"
        )
        rows.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(d.get('definition', ''))}</td>"
            f"<td>{html.escape(str(d.get('model', '')))}</td><td>{_direction(d.get('higher_is_better'))}"
            f"</td><td>{status}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _methods_table(results: dict) -> str:
    methods = results.get("methods", {})
    names = [n for n, d in results.get("metrics", {}).items() if d.get("kind") != "pairwise"]
    head = (
        "<tr><th>method</th><th>items</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"
    )
    body = []
    for mname, m in methods.items():
        cells = {**m.get("metrics", {}), **m.get("set_metrics", {})}
        tds = "".join(f'<td class="num">{_fmt_value(cells[n]) if n in cells else "–"}</td>' for n in names)
        body.append(
            f"<tr><td><b>{html.escape(mname)}</b><div class='small'>{html.escape(m.get('kind', ''))}</div>"
            f"</td><td class='num'>{m.get('n_items', 0)}</td>{tds}</tr>"
        )
    conf = results.get("suite", {}).get("confidence", 0.95)
    return (
        f"<p class='small'>Mean over items [{int(round(conf * 100))}% bootstrap CI, "
        f"{results.get('suite', {}).get('n_bootstrap', '')} resamples]; FID/KID over the pooled views.</p>"
        f"<table>{head}{''.join(body)}</table>"
    )


def _comparison_section(results: dict, rows: list[dict]) -> str:
    from photo3d.eval.svg import scatter_plot

    out = []
    defs = results.get("metrics", {})
    for comp in results.get("comparisons", []):
        a, b = comp["a"], comp["b"]
        trs = ["<tr><th>metric</th><th>mean difference B − A [CI]</th><th>pairs</th></tr>"]
        for name, d in comp.get("metrics", {}).items():
            cls = ""
            v = _num(d.get("value")) if isinstance(d, dict) else None
            if v is not None and isinstance(d.get("ci_low"), (int, float)) and math.isfinite(v):
                up = defs.get(name, {}).get("higher_is_better", True)
                if up is not None and (d["ci_low"] > 0 or d["ci_high"] < 0):
                    cls = "better" if (d["ci_low"] > 0) == up else "worse"
            trs.append(
                f"<tr><td>{html.escape(name)}</td><td class='num {cls}'>{_fmt_value(d)}</td>"
                f"<td class='num'>{d.get('n', '–') if isinstance(d, dict) else '–'}</td></tr>"
            )
        judge = comp.get("judge")
        if judge is not None:
            if judge.get("status") == "unavailable":
                jtxt = f'<span class="na">unavailable: {html.escape(judge.get("reason", ""))}</span>'
            else:
                jtxt = (
                    f"{_fmt_value(judge)} &nbsp; <span class='small'>wins B {judge.get('wins_b')}, wins A "
                    f"{judge.get('wins_a')}, ties {judge.get('ties')}, invalid {judge.get('invalid')}</span>"
                )
            trs.append(
                f"<tr><td>judge win rate of B</td><td class='num'>{jtxt}</td>"
                f"<td class='num'>{judge.get('n_valid', '–')}</td></tr>"
            )
        plots = []
        ra = {r["id"]: r for r in rows if r["method"] == a}
        rb = {r["id"]: r for r in rows if r["method"] == b}
        for name in comp.get("metrics", {}):
            pairs = [
                (_num(ra[i]["metrics"].get(name)), _num(rb[i]["metrics"].get(name))) for i in ra if i in rb
            ]
            pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
            svg = scatter_plot(name, a, b, pairs)
            if svg:
                plots.append(svg)
        out.append(
            f"<h3>{html.escape(b)} vs {html.escape(a)} ({comp.get('n_common', 0)} common items)</h3>"
            f"<table>{''.join(trs)}</table><div class='plots'>{''.join(plots)}</div>"
        )
    return "".join(out) or "<p class='small'>One method only: no comparison.</p>"


def _distribution_plots(results: dict, rows: list[dict]) -> str:
    from photo3d.eval.svg import strip_plot

    plots = []
    methods = results.get("methods", {})
    for name, d in results.get("metrics", {}).items():
        if d.get("kind") != "per_item":
            continue
        series = {
            m: [v for r in rows if r["method"] == m and (v := _num(r["metrics"].get(name))) is not None]
            for m in methods
        }
        cis = {m: methods[m].get("metrics", {}).get(name, {}) for m in methods}
        svg = strip_plot(name, series, cis)
        if svg:
            plots.append(svg)
    return (
        f"<div class='plots'>{''.join(plots)}</div>"
        if plots
        else "<p class='small'>No per-item values to plot.</p>"
    )


def _items_section(rows: list[dict], folder: Path, assets: _Assets, max_items: int) -> str:
    ids = list(dict.fromkeys(r["id"] for r in rows))[:max_items]
    out = []
    for item_id in ids:
        figs, viewers = [], []
        item_rows = [r for r in rows if r["id"] == item_id]
        ref = next((r["media"]["reference"] for r in item_rows if r.get("media", {}).get("reference")), None)
        if ref and (folder / ref).is_file():
            figs.append(
                f"<figure><img alt='reference' src='{assets.url(folder / ref, ref.replace('/', '_'))}'>"
                f"<figcaption>reference</figcaption></figure>"
            )
        for r in item_rows:
            media, m = r.get("media", {}), html.escape(r["method"])
            for key, label, cls in (("grid", m, ""), ("heldout", f"{m} (held-out views)", "wide")):
                if media.get(key) and (folder / media[key]).is_file():
                    figs.append(
                        f"<figure><img class='{cls}' alt='{label}' "
                        f"src='{assets.url(folder / media[key], media[key].replace('/', '_'))}'>"
                        f"<figcaption>{label}</figcaption></figure>"
                    )
            if media.get("glb") and (folder / media["glb"]).is_file():
                src = assets.url(folder / media["glb"], media["glb"].replace("/", "_"))
                viewers.append(
                    f"<figure><model-viewer src='{src}' alt='{m} 3D' camera-controls "
                    f"interaction-prompt='none' loading='eager' reveal='auto' shadow-intensity='0.6' "
                    f"exposure='1.0' camera-orbit='200deg 75deg auto'></model-viewer>"
                    f"<figcaption>{m} (3D, drag to orbit)</figcaption></figure>"
                )
        out.append(
            f"<div class='item'><div><b>{html.escape(item_id)}</b></div>{''.join(figs)}{''.join(viewers)}</div>"
        )
    return "".join(out) or "<p class='small'>No items.</p>"


def model_viewer_js() -> bytes:
    """The vendored ``@google/model-viewer`` bundle (three.js included)."""
    return resources.files("photo3d.eval").joinpath("static/model-viewer.min.js").read_bytes()


def render_report(
    results_path: str | Path,
    out: str | Path,
    assets: str = "inline",
    title: str | None = None,
    max_items: int = 200,
) -> str:
    """Build the report HTML (side files are written when ``assets="sibling"``)."""
    results, rows, folder = load_results(results_path)
    out = Path(out)
    urls = _Assets(assets, out)
    has_glb = any(r.get("media", {}).get("glb") for r in rows)
    script = ""
    if has_glb:
        js = model_viewer_js()
        if assets == "inline" and b"<script" not in js.lower() and b"</script" not in js.lower():
            script = f'<script type="module">{js.decode("utf-8")}</script>'
        elif assets == "inline":  # cannot sit inside a <script> element verbatim
            script = f'<script type="module" src="data:text/javascript;base64,{base64.b64encode(js).decode()}"></script>'
        else:
            atomic_write_bytes(urls.dir / "model-viewer.min.js", js)
            script = f'<script type="module" src="{urls.dir.name}/model-viewer.min.js"></script>'
    title = title or f"photo3d evaluation: {results.get('suite', {}).get('name', '')}"
    suite_json = html.escape(json.dumps(results.get("suite", {}), indent=1))
    body = (
        f"<h1>{html.escape(title)}</h1><p class='small'>created {html.escape(results.get('created', ''))}, "
        f"suite {html.escape(results.get('suite_fingerprint', ''))}</p>"
        f"<h2>Results</h2>{_methods_table(results)}"
        f"<h2>Comparisons</h2>{_comparison_section(results, rows)}"
        f"<h2>Distributions</h2>{_distribution_plots(results, rows)}"
        f"<h2>Items</h2>{_items_section(rows, folder, urls, max_items)}"
        f"<h2>Metrics</h2>{_metric_table(results)}"
        f"<h2>Suite</h2><details><summary>suite.json</summary><pre>{suite_json}</pre></details>"
        "<p class='small'>3D viewer: @google/model-viewer (Apache-2.0), bundled offline.</p>"
        "<div id='p3d-status' hidden data-errors='0' data-models-loaded='0'></div>"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{CSS}</style>"
        f"<script>{STATUS_JS}</script>{script}</head><body>{body}</body></html>"
    )


def write_report(
    results_path: str | Path,
    out: str | Path = "report.html",
    assets: str = "inline",
    title: str | None = None,
) -> Path:
    """Write the report for a ``photo3d eval`` folder (or its results.json) to ``out``, atomically.

    Args:
        results_path: results folder or results.json.
        out: the HTML file.
        assets: ``"inline"`` (one self-contained file) or ``"sibling"`` (``<out>_files/`` beside it).
        title: page title.
    """
    if assets not in ("inline", "sibling"):
        raise InputError(f"assets must be 'inline' or 'sibling', got {assets!r}")
    page = render_report(results_path, out, assets, title)
    return atomic_write_text(out, page)
