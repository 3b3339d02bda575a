"""Texture images: encoded bytes <-> ``H x W x C`` uint8 arrays (C = 3 or 4), values as stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photo3d.errors import AssetError, InputError, UnreadableImageError
from photo3d.io.images import decode_array, encode_png

_KTX2_MAGIC = b"\xabKTX 20\xbb\r\n\x1a\n"
_KTX1_MAGIC = b"\xabKTX 11\xbb\r\n\x1a\n"

KTX2_HINT = ("convert the textures to PNG/JPEG, e.g. `npx @gltf-transform/cli png in.glb out.glb`, "
             "or re-export without KTX2/Basis compression")


def decode_texture(data: bytes, name: str, source: Path | str) -> np.ndarray:
    """Decode a texture's bytes into ``[H, W, C]`` uint8 (C = 3, or 4 with alpha).

    Decoding is :func:`photo3d.io.images.decode_array`; this adds the asset-specific checks.

    Args:
        data: the encoded image.
        name: the image's name for messages (URI or ``image N``).
        source: the asset file, for messages.

    Raises:
        AssetError: KTX2/Basis textures, or bytes that are not a readable image.
    """
    if data[:12] in (_KTX2_MAGIC, _KTX1_MAGIC):
        raise AssetError(f"{source}: texture '{name}' is KTX/Basis-compressed, which photo3d cannot "
                         f"decode; {KTX2_HINT}")
    try:
        return decode_array(data, source)
    except UnreadableImageError as exc:
        raise AssetError(f"{source}: texture '{name}' is not a readable image ({exc.reason}); "
                         "replace it with a valid PNG/JPEG and reload") from exc


def encode_texture(texture: np.ndarray) -> bytes:
    """``[H, W, 3|4]`` uint8 -> PNG bytes (through :func:`photo3d.io.images.encode_png`).

    Raises:
        InputError: wrong shape or dtype.
    """
    return encode_png(check_texture(texture))


def check_texture(texture: np.ndarray, what: str = "texture") -> np.ndarray:
    """Validate a base-colour texture: ``[H, W, 3|4]`` uint8 (float in [0, 1] is converted)."""
    tex = np.asarray(texture)
    if tex.ndim != 3 or tex.shape[2] not in (3, 4) or min(tex.shape[:2]) < 1:
        raise InputError(f"{what} must be H x W x 3 or 4, got shape {tex.shape}")
    if tex.dtype != np.uint8:
        if tex.dtype.kind != "f":
            raise InputError(f"{what} must be uint8 (or float in [0, 1]), got {tex.dtype}")
        tex = (np.clip(tex, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(tex)


def constant_texture(color: np.ndarray, size: int = 4) -> np.ndarray:
    """A ``[size, size, 3]`` uint8 texture filled with an RGB colour in [0, 1]."""
    rgb = (np.clip(np.asarray(color, dtype=np.float64)[:3], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.broadcast_to(rgb, (size, size, 3)).copy()
