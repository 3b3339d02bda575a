"""How every command runs: its output locked before any work, failures as one line, signals as Ctrl-C.

:func:`run_command` wraps each command's ``run`` (the dispatcher in :mod:`photo3d.cli` calls it),
so a new command gets all of this by declaring where it writes:

* **Outputs.** Before the command body runs, each output it names is opened through
  :func:`photo3d.io.output.open_output` (not staged here: the library entry point stages its own
  set): the folder is created, probed for writability, locked against a second run, and cleaned
  of what a killed run left (temporary files, staging folders; a cut-short commit is finished).
  A command names its outputs with ``parser.set_defaults(_outputs=fn)``, ``fn(args) -> [(path,
  "dir" | "file")]``; without it, ``args.out`` (when set) is an output folder. Read-only commands
  set ``_outputs=None``. Under ``torchrun`` only rank 0 writes, so only rank 0 locks.
* **One line per failure**, exit status 2: :class:`~photo3d.errors.Photo3DError` (every line of
  its message prefixed ``photo3d CMD: error:``, so a check that lists several bad inputs prints
  one line each), and ``OSError`` (a failed write: the file and what to do, e.g. a full disk).
* **Signals**: SIGTERM is handled like Ctrl-C (the run unwinds, staged outputs are dropped):
  exit status 130 after SIGINT, 143 after SIGTERM.
* **Warnings** print as one ``photo3d CMD: warning: MESSAGE`` line, not ``file.py:168: UserWarning``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import warnings
from collections.abc import Iterator

EXIT_USER_ERROR = 2
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so that every ``except KeyboardInterrupt`` cleanup runs."""

    signum = signal.SIGTERM


def run_command(args: argparse.Namespace) -> int:
    """Run ``args._run(args)`` under the guarantees of the module docs; returns the exit status."""
    from photo3d.errors import Photo3DError
    from photo3d.io.output import describe_os_error

    name = args.command
    with warnings_as_lines(name), sigterm_as_interrupt():
        try:
            with contextlib.ExitStack() as stack:
                for target, kind in output_targets(args):
                    stack.enter_context(_hold(target, kind))
                result = args._run(args)
        except Photo3DError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                print(f"photo3d {name}: error: {line}", file=sys.stderr)
            return EXIT_USER_ERROR
        except BrokenPipeError:  # output piped into `head` and closed early: not an error
            with contextlib.suppress(OSError):
                sys.stderr.close()
            return 0
        except OSError as exc:
            print(f"photo3d {name}: error: {describe_os_error(exc)}", file=sys.stderr)
            return EXIT_USER_ERROR
        except KeyboardInterrupt as exc:
            term = isinstance(exc, Terminated)
            print(f"photo3d {name}: interrupted{' (SIGTERM)' if term else ''}; finished files were kept, "
                  "nothing half-written", file=sys.stderr)
            return EXIT_SIGTERM if term else EXIT_SIGINT
    return int(result or 0)


def output_targets(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``[(path, "dir" | "file")]`` the command writes (see the module docs)."""
    if int(os.environ.get("RANK", "0") or 0) > 0:
        return []  # torchrun: rank 0 writes (and locks) for the whole job
    if hasattr(args, "_outputs"):
        return list(args._outputs(args)) if args._outputs else []
    out = getattr(args, "out", None)
    return [(out, "dir")] if isinstance(out, str) and out else []


def _hold(target: str, kind: str):
    from photo3d.io.output import open_output

    return open_output(target, kind, staged=False)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Raise :class:`Terminated` in the main thread on SIGTERM (restored afterwards)."""
    def handler(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def warnings_as_lines(command: str) -> Iterator[None]:
    """Show warnings as ``photo3d COMMAND: warning: MESSAGE`` on stderr while the command runs."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = f"photo3d {command}: warning: {' '.join(str(message).split())}"
        bars = sys.modules.get("tqdm")
        if bars is not None:  # a progress bar may be on screen: print above it, not into it
            bars.tqdm.write(text, file=file or sys.stderr)
        else:
            print(text, file=file or sys.stderr)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous
