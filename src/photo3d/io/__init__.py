"""Small, safe file I/O: atomic writes, output folders, the text/JSON/TOML reader, images, JSON lines.

* :mod:`photo3d.io.atomic`: every file appears complete under its name, or not at all;
* :mod:`photo3d.io.output`: output folders probed, locked (:mod:`photo3d.io.lock`) and staged, so
  a set of results appears as one, and never mixed with another run's;
* :mod:`photo3d.io.text`: the one reader of user files: any problem is one line naming
  ``file:line``;
* :mod:`photo3d.io.images`, :mod:`photo3d.io.jsonl`: images and JSON lines.

All but the image helpers are torch-free (those import torch on first use), so light modules
(the CLI, configs) read and write files without paying for a torch import.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.io.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from photo3d.io.jsonl import append_jsonl, read_jsonl, write_jsonl
from photo3d.io.output import Output, OutputError, open_output
from photo3d.io.text import read_json, read_text, read_toml

_IMAGES = ("load_image", "save_image", "to_pil", "to_tensor", "decode_image", "decode_array", "encode_png",
           "image_size", "texture_to_tensor", "to_uint8", "composite", "as_png", "open_pil", "encode_gif")

__getattr__, __dir__ = lazy_exports(__name__, {name: "photo3d.io.images" for name in _IMAGES})

__all__ = ["Output", "OutputError", "append_jsonl", "atomic_path", "atomic_write_bytes", "atomic_write_json",
           "atomic_write_text", "open_output", "read_json", "read_jsonl", "read_text", "read_toml", "write_jsonl",
           *_IMAGES]
