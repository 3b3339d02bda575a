"""Texturers by name, resolved lazily: ``photo3d texture --help`` imports no torch and a paradigm's
module is imported only when it is chosen.

Each entry maps a name to a factory ``factory(weights: str, device, **options) -> Texturer``,
given as a callable or as ``"module:function"``. ``weights`` is ``"tiny"`` (a tiny random model
for smoke runs and tests, a stand-in and recorded as one) or a local folder with the real weights.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from photo3d.errors import InputError, MissingDependencyError

Factory = Callable[..., Any]

_ENTRIES: dict[str, tuple[str | Factory, str]] = {
    "mvdiffusion": ("photo3d.paradigms.mvdiffusion.texturer:build_texturer",
                    "multi-view diffusion (Step1X-3D / MV-Adapter on SDXL): six orthographic views, back-projected"),
    "feedforward": ("photo3d.paradigms.feedforward.texturer:build_texturer",
                    "feed-forward TexGaussian: Gaussians on the surface, fitted into a texture"),
    "testing-views": ("photo3d.texture.testing:build_views_double",
                      "deterministic test double (no model): views of a colour field at the Step1X-3D rig"),
    "testing-gaussians": ("photo3d.texture.testing:build_gaussians_double",
                          "deterministic test double (no model): Gaussians of a colour field, with materials"),
}


def register_texturer(name: str, factory: str | Factory, help: str) -> None:  # noqa: A002 - the CLI's word
    """Add (or replace) texturer ``name``.

    Args:
        name: the ``--model`` value.
        factory: ``factory(weights, device, **options) -> Texturer``, or ``"module:function"``.
        help: one line for ``photo3d texture --help``.
    """
    _ENTRIES[name] = (factory, help)


def texturer_names() -> list[str]:
    """Registered names, in registration order."""
    return list(_ENTRIES)


def texturer_help(name: str) -> str:
    """The one-line description of ``name``."""
    return _ENTRIES[name][1]


def get_texturer(name: str) -> Factory:
    """The factory of texturer ``name`` (its module imported now).

    Raises:
        InputError: unknown name.
        MissingDependencyError: the paradigm's module is not part of this installation, or a
            package it needs is missing.
    """
    if name not in _ENTRIES:
        raise InputError(f"unknown texturer {name!r}; choose one of {', '.join(_ENTRIES)}")
    target = _ENTRIES[name][0]
    if callable(target):
        return target
    module, _, func = target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise MissingDependencyError(
                f"texturer {name!r} is not available in this installation ({module} is missing); "
                f"choose one of {', '.join(n for n in _ENTRIES if n != name)}") from exc
        raise MissingDependencyError(f"texturer {name!r} needs the package {exc.name!r}, which is not installed "
                                     f"({exc})") from exc
    factory = getattr(mod, func, None)
    if factory is None:
        raise MissingDependencyError(f"texturer {name!r}: {module} has no {func}(); this installation is incomplete")
    return factory
