"""Small, safe file I/O: atomic writes and image conversion at module boundaries."""

from photo3d.io.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from photo3d.io.images import load_image, save_image, to_pil, to_tensor

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "load_image",
    "save_image",
    "to_pil",
    "to_tensor",
]
