"""Small, safe file I/O: atomic writes, images and JSON-lines files at module boundaries.

``photo3d.io.atomic`` is torch-free; the image helpers import torch on first use, so light
modules (the CLI, configs) can write files without paying for a torch import.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.io.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from photo3d.io.jsonl import append_jsonl, read_jsonl, write_jsonl

_IMAGES = ("load_image", "save_image", "to_pil", "to_tensor", "decode_image", "decode_array", "encode_png",
           "image_size", "texture_to_tensor", "to_uint8", "composite", "as_png", "open_pil", "encode_gif")

__getattr__, __dir__ = lazy_exports(__name__, {name: "photo3d.io.images" for name in _IMAGES})

__all__ = ["append_jsonl", "atomic_path", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
           "read_jsonl", "write_jsonl", *_IMAGES]
