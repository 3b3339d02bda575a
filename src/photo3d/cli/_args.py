"""Typed configs generate the command line: one dataclass field = one ``--option``.

A config dataclass (kept in a module that does not import torch) documents each field with
``field(metadata={"help": ...})``. :func:`add_config_arguments` turns the
fields into argparse options and :func:`config_from_args` builds the dataclass back from the
parsed namespace (where :class:`photo3d.config.TypedConfig` checks the values), so the CLI, the
Python API and the JSON records all speak the same names. :class:`Parser` reports a bad
command-line value as one line (``photo3d enhance: error: argument --steps: invalid int value:
'x'``), like every other user error.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line (the usage is one ``--help`` away)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, group: str | None = None,
                         skip: tuple[str, ...] = (), defaults: dict[str, Any] | None = None) -> None:
    """Add one ``--kebab-name`` option per field of dataclass ``cls``.

    ``defaults`` overrides field defaults for this parser only (e.g. one sub-command's recipe),
    and ``--help`` shows the overridden values.
    """
    target = parser.add_argument_group(group) if group else parser
    hints = get_type_hints(cls)
    defaults = dict(defaults or {})
    unknown = set(defaults) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"{cls.__name__} has no fields {sorted(unknown)}")
    for f in dataclasses.fields(cls):
        if f.name in skip or f.metadata.get("cli") is False:
            continue
        default = defaults.get(f.name, _default(f))
        kind, choices, nargs = _parse_type(hints[f.name])
        opt = "--" + f.name.replace("_", "-")
        helptext = f.metadata.get("help", "")
        if kind is bool:
            target.add_argument(opt, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                help=f"{helptext} (default: {default})")
            continue
        shown = " ".join(map(str, default)) if isinstance(default, (tuple, list)) else default
        target.add_argument(opt, dest=f.name, type=kind, choices=choices, nargs=nargs, default=default,
                            metavar=f.metadata.get("metavar"),
                            # None = chosen at run time: the help text says how
                            help=helptext if default is None else f"{helptext} (default: {shown})")


def config_from_args(cls: type[T], args: argparse.Namespace, **overrides: Any) -> T:
    """Build ``cls`` from the options :func:`add_config_arguments` added (plus ``overrides``)."""
    values = {}
    for f in dataclasses.fields(cls):
        if hasattr(args, f.name):
            val = getattr(args, f.name)
            values[f.name] = tuple(val) if isinstance(val, list) else val
    values.update(overrides)
    return cls(**values)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


def _parse_type(tp: Any) -> tuple[Any, list | None, str | None]:
    """(scalar converter, choices, nargs) for a field annotation."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _parse_type(inner[0])
    if origin is Literal:
        choices = list(get_args(tp))
        return type(choices[0]), choices, None
    if origin in (tuple, list):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        kind, choices, _ = _parse_type(args[0] if args else str)
        nargs = "+" if (origin is list or Ellipsis in get_args(tp)) else len(args)
        return kind, choices, nargs
    return tp, None, None
