"""Typed configs: dataclasses whose every field is checked against its annotation.

One convention for every options dataclass in photo3d (enhance, demo, losses, training,
paradigms, evaluation suites, the dataset builder, ``photo3d render``):

* a field is declared with ``field(default=..., metadata={"help": "..."})``: its default and one
  help phrase (the command line appends ``(default: ...)``; configs read from files document
  their keys with the same text; ``"metavar"`` names the value, ``"cli": False`` keeps it off
  the command line; ``tests/test_config.py`` checks that every field has one);
* the class derives from :class:`TypedConfig`, whose ``__post_init__`` checks every value against
  the field's annotation before anything else happens. A wrong type is one
  :class:`~photo3d.errors.ConfigError` line (an ``InputError`` and a ``ValueError``) naming the
  key, the value and what was expected::

      EnhanceConfig.tone_match = 'bogus': expected one of 'auto', 'none', 'mean', 'meanstd', ...

* :func:`config_from_dict` builds (nested) configs from TOML/JSON tables with the key path in the
  message (``render.resolution = '512': expected an integer``) and rejects unknown keys.
* a float option must be finite (``--lr nan`` is one error line), unless its metadata says
  ``"nonfinite": True``;
* ``"run_only": True`` in a field's metadata marks an option that says how or where a run happens
  (output folder, device, step count, logging, endpoints), not what it computes: it may change
  when a run is resumed. :func:`outcome_options` drops those, and :func:`changed_options` lists
  what else differs between a saved run's options and the current ones (``train.lr: 0.0001 ->
  0.001``), so resuming with other settings is refused instead of silently mixing them.

Supported annotations: ``bool``, ``int``, ``float`` (ints accepted), ``str``, ``Literal[...]``,
``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``dict[str, X]`` (lists and
tuples are accepted for sequences and stored as the annotated kind) and nested configs. Torch-free.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from photo3d.errors import ConfigError

_T = TypeVar("_T")


class TypedConfig:
    """Base of options dataclasses: values are type-checked on construction (see module docs)."""

    def __post_init__(self) -> None:
        check_config(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of all options."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


def check_config(obj: Any, where: str | None = None) -> None:
    """Check every field of the dataclass ``obj`` against its annotation (in place).

    Sequences are stored as their annotated kind (a list given for a ``tuple`` field becomes a
    tuple), so equal configs compare equal however they were built.

    Raises:
        ConfigError: ``<where>.<field> = <value>: expected <type>``.
    """
    hints = get_type_hints(type(obj))
    prefix = where or type(obj).__name__
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        checked = check_value(value, hints[f.name], f"{prefix}.{f.name}")
        if not f.metadata.get("nonfinite") and _has_nonfinite(checked):
            raise ConfigError(f"{prefix}.{f.name} = {value!r}: expected a finite number")
        if checked is not value:
            object.__setattr__(obj, f.name, checked)  # works for frozen dataclasses too


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (tuple, list)):
        return any(_has_nonfinite(v) for v in value)
    return False


def outcome_options(cfg: Any) -> dict[str, Any]:
    """The options of config dataclass ``cfg`` that decide what a run produces, as plain JSON.

    Fields whose metadata says ``"run_only": True`` are left out (recursively in nested configs).
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        if f.metadata.get("run_only"):
            continue
        value = getattr(cfg, f.name)
        out[f.name] = outcome_options(value) if dataclasses.is_dataclass(value) else _plain(value)
    return out


def changed_options(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """``"key.path: old -> new"`` for every option that differs (keys missing on one side included)."""
    changes = []
    for key in sorted(set(saved) | set(current), key=str):
        name = f"{prefix}{key}"
        a, b = saved.get(key, "<unset>"), current.get(key, "<unset>")
        if isinstance(a, dict) and isinstance(b, dict):
            changes += changed_options(a, b, name + ".")
        elif _plain(a) != _plain(b):
            changes.append(f"{name}: {_show(a)} -> {_show(b)}")
    return changes


def _plain(value: Any) -> Any:
    """JSON's view of ``value`` (tuples are lists), so saved and current options compare equal."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(_plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(value: Any, tp: Any, name: str) -> Any:
    """``value`` if it fits the annotation ``tp`` (sequences normalised), else :class:`~photo3d.errors.ConfigError`."""
    ok, checked = _fits(value, tp)
    if not ok:
        raise ConfigError(f"{name} = {value!r}: expected {describe_type(tp)}")
    return checked


def _fits(value: Any, tp: Any) -> tuple[bool, Any]:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return True, value
    if tp is type(None):
        return value is None, value
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            ok, checked = _fits(value, arg)
            if ok:
                return True, checked
        return False, value
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args), value
    if tp is bool:
        return isinstance(value, bool), value
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool), value
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            return False, value
        if origin is tuple and args and args[-1] is not Ellipsis and len(args) != len(value):
            return False, value
        items = args[:1] * len(value) if (origin is list or (args and args[-1] is Ellipsis)) else args
        checked = []
        for item, item_tp in zip(value, items or (Any,) * len(value)):
            ok, c = _fits(item, item_tp)
            if not ok:
                return False, value
            checked.append(c)
        return True, (tuple(checked) if origin is tuple else checked)
    if origin is dict:
        if not isinstance(value, dict):
            return False, value
        ktp, vtp = args or (Any, Any)
        return all(_fits(k, ktp)[0] and _fits(v, vtp)[0] for k, v in value.items()), value
    if isinstance(tp, type):
        return isinstance(value, tp), value
    return True, value  # an annotation we do not check (e.g. a Protocol)


def describe_type(tp: Any) -> str:
    """Human words for an annotation: ``an integer``, ``one of 'a', 'b'``, ``a list of numbers``."""
    origin, args = get_origin(tp), get_args(tp)
    words = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "None"}
    if tp in words:
        return words[tp]
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (tuple, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} values ({', '.join(describe_type(a) for a in args)})"
        inner = describe_type(args[0]) if args else "values"
        return f"a list of {_plural(inner)}"
    if origin is dict:
        return f"a table of {_plural(describe_type(args[1])) if args else 'values'} by name"
    if dataclasses.is_dataclass(tp):
        return f"a table of {tp.__name__} options"
    return getattr(tp, "__name__", str(tp))


def _plural(words: str) -> str:
    for single, many in (("an integer", "integers"), ("a number", "numbers"), ("a string", "strings"),
                         ("true or false", "true/false values")):
        words = words.replace(single, many)
    return words


def config_from_dict(data: Any, cls: type[_T], where: str = "config",
                     renamed: dict[str, dict[str, str]] | None = None) -> _T:
    """Build a (nested) config dataclass from a dict, checking keys and value types.

    Args:
        data: the table (from TOML or JSON).
        cls: the config class.
        where: the table's key path, used in messages (``"config"``, ``"render"``...).
        renamed: table name -> {former key: key} still accepted.

    Raises:
        ConfigError: not a table, an unknown key, or a value of the wrong type (one line).
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table/object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    aliases = (renamed or {}).get(where.rsplit(".", 1)[-1], {})
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        key = aliases.get(key, key)
        if key not in fields:
            raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(fields))}")
        path = key if where == "config" else f"{where}.{key}"
        sub = hints[key]
        if dataclasses.is_dataclass(sub) and isinstance(sub, type):
            kwargs[key] = config_from_dict(value, sub, path, renamed)
        else:
            kwargs[key] = check_value(value, sub, path)
    return cls(**kwargs)
