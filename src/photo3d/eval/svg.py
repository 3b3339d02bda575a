"""Tiny inline-SVG plots for the HTML report (no plotting library needed).

Two plots: a per-metric strip plot (one row of dots per method, mean and CI marked) and an
A-vs-B scatter of per-item values with the diagonal. Both return an ``<svg>`` string.
"""

from __future__ import annotations

import html
import math

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def _range(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5 * (abs(lo) or 1), hi + 0.5 * (abs(hi) or 1)
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def strip_plot(
    title: str,
    series: dict[str, list[float]],
    cis: dict[str, dict] | None = None,
    width: int = 420,
    row_h: int = 28,
) -> str:
    """Per-item values of one metric, one row per method; the mean (bar) and CI (band) on top.

    Args:
        title: plot title (the metric).
        series: method -> finite per-item values.
        cis: method -> ``{"value", "ci_low", "ci_high"}`` (optional).
    """
    finite = {k: [v for v in vals if math.isfinite(v)] for k, vals in series.items()}
    allv = [v for vals in finite.values() for v in vals]
    if not allv:
        return ""
    left, right, top = 110, 20, 24
    h = top + row_h * len(finite) + 24
    lo, hi = _range(
        allv
        + [
            c[k]
            for c in (cis or {}).values()
            for k in ("ci_low", "ci_high")
            if isinstance(c.get(k), (int, float)) and math.isfinite(c[k])
        ]
    )
    x = lambda v: left + (v - lo) / (hi - lo) * (width - left - right)  # noqa: E731
    parts = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="15" font-size="12" font-weight="bold">{html.escape(title)}</text>',
    ]
    for row, (name, vals) in enumerate(finite.items()):
        y = top + row * row_h + row_h / 2
        color = PALETTE[row % len(PALETTE)]
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="11">{html.escape(name[:16])}</text>')
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        ci = (cis or {}).get(name) or {}
        if isinstance(ci.get("ci_low"), (int, float)) and isinstance(ci.get("ci_high"), (int, float)):
            parts.append(
                f'<rect x="{x(ci["ci_low"]):.1f}" y="{y - 8:.1f}" width="{max(1.0, x(ci["ci_high"]) - x(ci["ci_low"])):.1f}"'
                f' height="16" fill="{color}" opacity="0.15"/>'
            )
        for v in vals:
            parts.append(
                f'<circle cx="{x(v):.1f}" cy="{y:.1f}" r="3" fill="{color}" opacity="0.7">'
                f"<title>{_fmt(v)}</title></circle>"
            )
        if isinstance(ci.get("value"), (int, float)) and math.isfinite(ci["value"]):
            parts.append(
                f'<line x1="{x(ci["value"]):.1f}" x2="{x(ci["value"]):.1f}" y1="{y - 10:.1f}" '
                f'y2="{y + 10:.1f}" stroke="{color}" stroke-width="2"/>'
            )
    yb = h - 8
    parts.append(f'<text x="{left}" y="{yb}" font-size="10">{_fmt(lo)}</text>')
    parts.append(f'<text x="{width - right}" y="{yb}" font-size="10" text-anchor="end">{_fmt(hi)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def scatter_plot(
    title: str, a_name: str, b_name: str, pairs: list[tuple[float, float]], size: int = 240
) -> str:
    """Per-item value of method A (x) against method B (y), with the y = x diagonal.

    Points above the diagonal are items where B scored higher.
    """
    pts = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if not pts:
        return ""
    lo, hi = _range([v for p in pts for v in p])
    m = 34
    s = lambda v: m + (v - lo) / (hi - lo) * (size - 2 * m)  # noqa: E731
    parts = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{m}" y="{m}" width="{size - 2 * m}" height="{size - 2 * m}" fill="none" stroke="#ccc"/>',
        f'<line x1="{m}" y1="{size - m}" x2="{size - m}" y2="{m}" stroke="#999" stroke-dasharray="4 3"/>',
    ]
    for a, b in pts:
        parts.append(
            f'<circle cx="{s(a):.1f}" cy="{size - s(b):.1f}" r="3.5" fill="{PALETTE[0]}" opacity="0.75">'
            f"<title>{_fmt(a)} vs {_fmt(b)}</title></circle>"
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 6}" font-size="10" text-anchor="middle">{html.escape(a_name)} '
        f"({_fmt(lo)}..{_fmt(hi)})</text>"
    )
    parts.append(
        f'<text x="10" y="{size / 2}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 10 {size / 2})">{html.escape(b_name)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
