"""photo3d: photorealistic 3D generation through structure-aligned detail enhancement.

Light to import: heavy pieces are loaded on first attribute access (PEP 562), so
``import photo3d`` does not import torch until a tensor function is used.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = ["__version__", *_LAZY]
