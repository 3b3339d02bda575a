"""Lazy package attributes (PEP 562): public names resolved from their modules on first access.

Packages list ``{public name: defining module}`` and get module-level ``__getattr__`` and
``__dir__`` from :func:`lazy_exports`, so importing a package stays cheap (no torch,
no transformers) until one of its heavy names is actually used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for a package with lazily imported names.

    Args:
        package: the package's ``__name__`` (used in error messages and by ``__dir__``).
        exports: public name -> dotted name of the module that defines it.

    Returns:
        ``(__getattr__, __dir__)``; assign both at the package's top level.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
