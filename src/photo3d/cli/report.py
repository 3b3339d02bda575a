"""``photo3d report``: a self-contained HTML page from ``photo3d eval`` results."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="write an HTML report of evaluation results", description=__doc__
    )
    p.add_argument("results", metavar="RESULTS", help="a `photo3d eval` output folder or its results.json")
    p.add_argument("-o", "--out", default="report.html", help="HTML file to write (default: report.html)")
    p.add_argument(
        "--assets",
        choices=("inline", "sibling"),
        default="inline",
        help="images/GLBs/script as data URIs in the page, or copied into a folder beside it",
    )
    p.add_argument("--title", default=None, help="page title")
    p.set_defaults(_run=run, _outputs=lambda a: [(a.out, "file")])


def run(args: argparse.Namespace) -> int:
    from photo3d.eval.report import write_report

    path = write_report(args.results, args.out, assets=args.assets, title=args.title)
    print(f"report: {path}")
    return 0
