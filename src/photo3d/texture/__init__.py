"""Texturing a mesh: one command and one baker for every texturing paradigm.

:func:`texture_mesh` runs a registered :class:`Texturer` (multi-view diffusion returns a
:class:`ViewsResult`, feed-forward models a :class:`GaussiansResult`), bakes its output into a UV
texture with :mod:`photo3d.bake` and writes a textured GLB, previews and a record. Texturers are
registered by name (:func:`register_texturer`; the registry imports a paradigm only when chosen).

Light to import: the torch-heavy parts load on first use.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.texture.config import TextureConfig
from photo3d.texture.registry import get_texturer, register_texturer, texturer_names

_LAZY: dict[str, str] = {
    "ViewsResult": "photo3d.texture.base",
    "GaussiansResult": "photo3d.texture.base",
    "Texturer": "photo3d.texture.base",
    "texture_mesh": "photo3d.texture.pipeline",
    "TextureResult": "photo3d.texture.pipeline",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = ["TextureConfig", "get_texturer", "register_texturer", "texturer_names", *_LAZY]
