"""The one place ``ocnn`` is imported.

``ocnn/__init__.py`` imports ``ocnn.models``, and ``ocnn.models.image2shape`` runs
``from torchvision.models import resnet18`` at import time, although nothing this package uses
needs torchvision. torchvision wheels are built against one exact torch release, so a CPU torch
from another index often has no torchvision that installs beside it. When torchvision is not
importable, a placeholder ``torchvision.models`` sits in ``sys.modules`` only while ``ocnn`` is
being imported and is removed right after, so no other code ever sees a fake torchvision.
"""

from __future__ import annotations

import sys
import types
from types import ModuleType

from photo3d._optional import is_available, require


def _unavailable(*_args, **_kwargs):
    raise RuntimeError("torchvision is not installed: ocnn.models.image2shape is unavailable")


def _placeholder_attr(name: str):
    if name.startswith("__"):  # inspect/importlib probe __file__, __path__, ...: be a plain module
        raise AttributeError(name)
    return _unavailable


def import_ocnn() -> ModuleType:
    """``import ocnn`` (installing the torchvision placeholder for the import if needed).

    Raises:
        MissingDependencyError: ocnn is not installed (one line with the pip extra).
    """
    if "ocnn" in sys.modules:
        return sys.modules["ocnn"]
    if is_available("torchvision"):
        return require("ocnn", "feed-forward texturing (TexGaussian octree U-Net)")
    import torch  # noqa: F401 - imported first so that torch itself never sees the placeholder

    placeholder = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    models.__getattr__ = _placeholder_attr  # any `from torchvision.models import X` succeeds
    placeholder.models = models
    saved = {k: sys.modules.get(k) for k in ("torchvision", "torchvision.models")}
    sys.modules.update({"torchvision": placeholder, "torchvision.models": models})
    try:
        return require("ocnn", "feed-forward texturing (TexGaussian octree U-Net)")
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
