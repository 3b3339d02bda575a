"""The ``photo3d`` console script.

Thin by design: each sub-command lives in its own module (``photo3d.cli.<name>``) exposing
``register(subparsers)`` and ``run(args)``; ``run`` calls one library function. Nothing heavy
(torch, transformers) is imported before arguments are parsed, so ``photo3d --help`` is instant.
Every command runs under :mod:`photo3d.cli._guard`: its output folder is locked and probed before
any work, failures print as one line, SIGTERM is handled like Ctrl-C, warnings are one line.
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
    ("doctor", "photo3d.cli.doctor"),
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
    """Entry point: parse, then run the command under :func:`photo3d.cli._guard.run_command`
    (outputs locked before any work, user errors and failed writes as one line with exit status 2,
    SIGINT 130, SIGTERM 143)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    from photo3d.cli._guard import run_command

    return run_command(args)


def _version() -> str:
    from photo3d import __version__

    return __version__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
