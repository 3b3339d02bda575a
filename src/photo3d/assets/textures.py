"""Texture images: encoded bytes <-> ``H x W x C`` uint8 arrays (C = 3 or 4), values as stored."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from photo3d.errors import AssetError, InputError

_KTX2_MAGIC = b"\xabKTX 20\xbb\r\n\x1a\n"
_KTX1_MAGIC = b"\xabKTX 11\xbb\r\n\x1a\n"

KTX2_HINT = ("convert the textures to PNG/JPEG, e.g. `npx @gltf-transform/cli png in.glb out.glb`, "
             "or re-export without KTX2/Basis compression")


def decode_image(data: bytes, name: str, source: Path | str) -> np.ndarray:
    """Decode PNG / JPEG / WebP / ... bytes into ``[H, W, C]`` uint8 (C = 3, or 4 with alpha).

    Grey images become RGB, palette images RGB(A), 16-bit images are reduced to 8 bits.

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
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return pil_to_array(im)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise AssetError(f"{source}: texture '{name}' is not a readable image ({exc}); "
                         "replace it with a valid PNG/JPEG and reload") from exc


def pil_to_array(im: Image.Image) -> np.ndarray:
    """PIL image -> ``[H, W, 3|4]`` uint8, keeping alpha when the image has it."""
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: keep the top 8 bits rather than letting PIL clip to 255
        arr = np.asarray(im, dtype=np.uint32) >> (8 if np.asarray(im).max() > 255 else 0)
        return np.repeat(arr.astype(np.uint8)[..., None], 3, axis=2)
    return np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.uint8).copy()


def encode_png(texture: np.ndarray) -> bytes:
    """``[H, W, 3|4]`` uint8 -> PNG bytes.

    Raises:
        InputError: wrong shape or dtype.
    """
    tex = check_texture(texture)
    buf = io.BytesIO()
    Image.fromarray(tex).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


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
