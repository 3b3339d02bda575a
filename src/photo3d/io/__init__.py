"""Small, safe file I/O: atomic writes and image conversion at module boundaries.

``photo3d.io.atomic`` is torch-free; the image helpers import torch on first use, so light
modules (the CLI, configs) can write files without paying for a torch import.
"""

from __future__ import annotations

from typing import Any

from photo3d.io.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text

_IMAGES = ("load_image", "save_image", "to_pil", "to_tensor")


def __getattr__(name: str) -> Any:
    if name in _IMAGES:
        from photo3d.io import images

        return getattr(images, name)
    raise AttributeError(f"module 'photo3d.io' has no attribute {name!r}")


__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", *_IMAGES]
