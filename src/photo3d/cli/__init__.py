"""The ``photo3d`` console script.

Thin by design: each sub-command lives in its own module (``photo3d.cli.<name>``) exposing
``register(subparsers)`` and ``run(args)``; ``run`` calls one library function. Nothing heavy
(torch, transformers) is imported before arguments are parsed, so ``photo3d --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (command, module) in the order `--help` lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("render", "photo3d.cli.render"),
    ("enhance", "photo3d.cli.enhance"),
    ("texture", "photo3d.cli.texture"),
    ("bake", "photo3d.cli.bake"),
    ("generate", "photo3d.cli.generate"),
    ("demo", "photo3d.cli.demo"),
    ("data", "photo3d.cli.data"),
    ("train", "photo3d.cli.train"),
    ("eval", "photo3d.cli.eval"),
    ("report", "photo3d.cli.report"),
)

DESCRIPTION = """\
photo3d: photorealistic appearance for 3D assets with structure-aligned detail enhancement
(Photo3D, CVPR 2026). Render the Photo3D 4-view rig, enhance an asset's texture from edited
views with the L_adapt + L_match losses, build Photo3D-MV data, fine-tune generators, evaluate.

Start with:  photo3d demo            (offline, bundled example)
"""


def build_parser() -> argparse.ArgumentParser:
    from photo3d.cli._args import Parser

    parser = Parser(prog="photo3d", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"photo3d {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue  # command not shipped in this build
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn user errors into one line (exit status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    from photo3d.errors import Photo3DError

    try:
        result = args._run(args)
    except Photo3DError as exc:
        print(f"photo3d {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"photo3d {args.command}: interrupted; finished files were kept, nothing half-written", file=sys.stderr)
        return 130
    return int(result or 0)


def _version() -> str:
    from photo3d import __version__

    return __version__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
