"""Reading text, JSON and TOML files that users hand to photo3d: the one reader.

Every config, prompts file, cameras file, suite, ``results.json`` or manifest photo3d reads goes
through :func:`read_text` (JSON lines through :func:`photo3d.io.jsonl.read_jsonl`, which uses it
too). Whatever is wrong with the file, the error is one :class:`~photo3d.errors.InputError` line
naming the file, the line when there is one, and what to do::

    build.toml:3: not valid TOML (Expected '=' after a key in a key/value pair); fix that line
    results.json:12:5: not valid JSON (Expecting ',' delimiter); fix the file or rerun the command that wrote it
    prompts.txt:4: not UTF-8 text (byte 0xe9 at column 18); save the file as UTF-8

Torch-free.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from photo3d.errors import InputError

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def read_bytes(path: str | os.PathLike, what: str = "file") -> bytes:
    """The bytes of ``path``; a missing file, a folder or an I/O error is one :class:`InputError` line.

    Args:
        path: the file.
        what: what the file is, for the message (``"cameras file"``, ``"prompts file"``).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what}")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from exc


def decode_text(data: bytes, source: str | os.PathLike) -> str:
    """UTF-8 ``data`` as text (a byte-order mark is dropped).

    Raises:
        InputError: ``source:line: not UTF-8 text (byte 0x.. at column c); save the file as UTF-8``.
    """
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        start = bom + exc.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise InputError(f"{source}:{line}: not UTF-8 text (byte 0x{data[start]:02x} at column {column}); "
                         "save the file as UTF-8") from None


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The UTF-8 text of ``path`` (see :func:`read_bytes` and :func:`decode_text` for the errors)."""
    return decode_text(read_bytes(path, what), path)


def parse_json(text: str, source: str | os.PathLike, hint: str = "fix the file") -> Any:
    """``json.loads(text)``; a syntax error is ``source:line:column: not valid JSON (...); hint``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); {hint}") from None
    except RecursionError:
        raise InputError(f"{source}: not valid JSON (nested too deeply); {hint}") from None


def read_json(path: str | os.PathLike, what: str = "JSON file", hint: str = "fix the file") -> Any:
    """The parsed content of a JSON file (one :class:`InputError` line for any problem).

    Args:
        path: the file.
        what: what the file is, for the message.
        hint: what to do about a syntax error (``"rerun the command that wrote it"``).
    """
    return parse_json(read_text(path, what), path, hint)


def read_toml(path: str | os.PathLike, what: str = "TOML file") -> dict[str, Any]:
    """The parsed content of a TOML file; a syntax error names ``file:line``."""
    import tomllib

    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_AT.search(msg)
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise InputError(f"{where}: not valid TOML ({_TOML_AT.sub('', msg)}); fix that line") from None


def expect_object(data: Any, source: str | os.PathLike, what: str = "a JSON object") -> dict[str, Any]:
    """``data`` when it is a dict, else one :class:`InputError` line (``source: expected ..., got a list``)."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected {what}, got {_kind(data)}")
    return data


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false",
            type(None): "null"}.get(type(value), type(value).__name__)
