"""Frozen image encoders for the realistic-detail losses (CLIP, DINOv2/v3, offline Inception).

Everything is loaded lazily so that importing this package does not import transformers.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "Encoder": "photo3d.encoders.base",
    "FrozenEncoder": "photo3d.encoders.base",
    "CLIPImageEncoder": "photo3d.encoders.hf",
    "DINOImageEncoder": "photo3d.encoders.hf",
    "wrap_hf_model": "photo3d.encoders.hf",
    "InceptionFIDEncoder": "photo3d.encoders.inception",
    "load_encoder": "photo3d.encoders.registry",
    "default_encoders": "photo3d.encoders.selection",
    "encoder_names": "photo3d.encoders.registry",
    "load_backbone": "photo3d.encoders.registry",
    "TinyConvEncoder": "photo3d.encoders.testing",
    "tiny_clip": "photo3d.encoders.testing",
    "tiny_dino": "photo3d.encoders.testing",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
