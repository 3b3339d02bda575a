"""``photo3d eval``: score methods on a suite (metrics, bootstrap CIs, paired comparison, judge)."""

from __future__ import annotations

import argparse

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.eval.suite import Suite

EPILOG = """\
examples:
  photo3d eval runs/enhance_out -o eval/            # before vs after of a `photo3d enhance` OUTDIR
  photo3d eval assets/ --references gt/ -o eval/    # render assets with the rig + held-out views
  photo3d eval --compare grids_a/ grids_b/ --references gt/ -o eval/
  photo3d eval --method base=out/base --method ours=out/ours --judge-url http://host/v1 -o eval/
Metrics whose model is absent are reported {"status": "unavailable", "reason": ...}.
Rerunning into the same -o skips items already scored."""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate renders/assets with the paper's metrics",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dirs", nargs="*", metavar="DIR", help="method folders (assets, grid_*.png, enhance/train outputs)"
    )
    p.add_argument("--compare", nargs=2, metavar=("DIR_A", "DIR_B"), help="compare two methods (B - A)")
    p.add_argument(
        "--method", action="append", default=[], metavar="NAME=DIR", help="a named method (repeatable)"
    )
    p.add_argument(
        "--suite", metavar="JSON", help="read the suite from a JSON file (the suite options are then ignored)"
    )
    p.add_argument("-o", "--out", required=True, help="results folder (results.json, results.jsonl, media/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(p, Suite, group="suite")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from photo3d.errors import InputError
    from photo3d.eval.harness import run_eval

    methods: list[tuple[str | None, str]] = [(None, d) for d in args.dirs]
    if args.compare:
        methods += [(None, d) for d in args.compare]
    for spec in args.method:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise InputError(f"--method wants NAME=DIR, got {spec!r}")
        methods.append((name, folder))
    if not methods:
        raise InputError(
            "nothing to evaluate: give method folders, --compare DIR_A DIR_B or --method NAME=DIR"
        )
    if args.suite:
        from photo3d.io.text import expect_object, read_json

        path = Path(args.suite)
        if not path.is_file():
            raise InputError(f"{path}: suite file not found")
        data = expect_object(read_json(path, "suite file"), path)
        suite = Suite.from_json(expect_object(data.get("suite", data), path, "a suite object"))
    else:
        suite = config_from_args(Suite, args)
    results = run_eval(methods, suite, args.out, progress=not args.quiet)
    _print_summary(results)
    print(f"results: {Path(args.out) / 'results.json'}  (report: photo3d report {args.out} -o report.html)")
    return 0


def _print_summary(results: dict) -> None:
    for name, method in results["methods"].items():
        parts = []
        for metric, agg in {**method["metrics"], **method.get("set_metrics", {})}.items():
            if isinstance(agg, dict) and isinstance(agg.get("value"), (int, float)):
                parts.append(f"{metric} {agg['value']:.4g}")
        print(f"{name} ({method['n_items']} items): " + (", ".join(parts) or "no metric available"))
    for comp in results.get("comparisons", []):
        judge = comp.get("judge") or {}
        if isinstance(judge.get("value"), float):
            print(
                f"judge: {comp['b']} beats {comp['a']} in {100 * judge['value']:.1f}% of {judge['n_valid']} pairs"
            )
