"""``photo3d data``: build a Photo3D-MV folder from a config, or report a build's status.

    photo3d data build CONFIG.toml [--out OUT] [--limit N] [--executor local|ray] [--retry-failed]
    photo3d data status OUT [--json]

Rerunning ``build`` with the same config resumes where the last run stopped (even after
``kill -9``) without repeating finished work or paid API calls. A second build into a folder that
is being built stops at once (exit 2); a build in which no sample succeeded exits 1.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    """Add ``photo3d data {build,status}``."""
    parser = subparsers.add_parser("data", help="build Photo3D-MV data (prompts/assets -> edited 4-view grids)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    b = sub.add_parser("build", help="build or resume a dataset from a TOML/JSON config")
    b.add_argument("config", help="build config (.toml or .json); see examples/build_from_assets.toml")
    b.add_argument("--out", help="output folder (overrides the config's `out`)")
    b.add_argument("--limit", type=int, help="only the first N source samples")
    b.add_argument("--executor", choices=["local", "ray"], help="override executor.kind")
    b.add_argument("--retry-failed", action="store_true", help="also retry permanent failures (policy, rejected edits)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument("--on-error", choices=["record", "raise"], default="record",
                   help="unexpected exceptions in stages: record as failures (default) or raise")
    b.add_argument("--resume-override", action="store_true",
                   help="continue an output folder built with other options (recorded in .cache/options.json)")
    b.set_defaults(_run=run_build, _outputs=lambda a: [(a.out, "dir")] if a.out else [])
    s = sub.add_parser("status", help="counts per stage, failures by reason, spend")
    s.add_argument("out", help="a build's output folder")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(_run=run_status, _outputs=None)  # reads only (also while a build runs)
    parser.set_defaults(_run=lambda args: parser.print_help() or 0)


def run_build(args) -> int:
    from photo3d.data.builder import build
    from photo3d.data.config import load_config

    cfg = load_config(args.config, out=args.out)
    if args.limit is not None:
        cfg.source.limit = args.limit
    if args.executor:
        cfg.executor.kind = args.executor
    if args.retry_failed:
        cfg.executor.retry_failed = True
    if args.no_progress:
        cfg.executor.progress = False
    result = build(cfg, on_error=args.on_error, resume_override=args.resume_override)
    print(result.summary())
    if result.empty:  # a run that built nothing is a failure, whatever the reasons
        import sys

        failed = ", ".join(f"{r}={n}" for r, n in sorted(result.stats.failed.items())) or "none recorded"
        print(f"photo3d data build: error: nothing was built: 0 of {result.total} samples complete (failures: "
              f"{failed}); see `photo3d data status {result.out}`", file=sys.stderr)
        return 1
    return 0


def run_status(args) -> int:
    from photo3d.data.writer import format_status, status

    st = status(args.out)
    print(json.dumps(st, indent=2) if args.json else format_status(st))
    return 0
