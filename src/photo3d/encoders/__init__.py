"""Frozen image encoders for the realistic-detail losses (CLIP, DINOv2/v3, offline Inception).

Everything is loaded lazily so that importing this package does not import transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "Encoder": "photo3d.encoders.base",
    "FrozenEncoder": "photo3d.encoders.base",
    "CLIPImageEncoder": "photo3d.encoders.hf",
    "DINOImageEncoder": "photo3d.encoders.hf",
    "wrap_hf_model": "photo3d.encoders.hf",
    "InceptionFIDEncoder": "photo3d.encoders.inception",
    "load_encoder": "photo3d.encoders.registry",
    "default_encoders": "photo3d.encoders.registry",
    "encoder_names": "photo3d.encoders.registry",
    "TinyConvEncoder": "photo3d.encoders.testing",
    "tiny_clip": "photo3d.encoders.testing",
    "tiny_dino": "photo3d.encoders.testing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'photo3d.encoders' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = list(_LAZY)
