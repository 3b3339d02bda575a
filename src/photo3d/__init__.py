"""photo3d: photorealistic 3D generation through structure-aligned detail enhancement.

Light to import: heavy pieces are loaded on first attribute access (PEP 562), so
``import photo3d`` does not import torch until a tensor function is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # cameras and grids
    "Cameras": "photo3d.cameras",
    "rig_cameras": "photo3d.cameras",
    "orbit_cameras": "photo3d.cameras",
    "ring_cameras": "photo3d.cameras",
    "random_cameras": "photo3d.cameras",
    "heldout_cameras": "photo3d.cameras",
    "compose_grid": "photo3d.grid",
    "split_grid": "photo3d.grid",
    # errors
    "Photo3DError": "photo3d.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'photo3d' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = ["__version__", *_LAZY]
