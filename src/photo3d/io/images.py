"""The one image reader and writer: encoded bytes and files <-> tensors or uint8 arrays.

Images at module boundaries are float tensors in [0, 1], channels first (``[C, H, W]``); stored
textures are ``H x W x C`` uint8 arrays (C = 3 or 4). Everything photo3d reads or writes as an
image goes through this module:

* decoding: :func:`decode_array` (bytes -> uint8 array, alpha kept), :func:`decode_image` (bytes
  -> float tensor), :func:`load_image` (file -> float tensor), :func:`image_size` (header only),
  :func:`as_png` (validate, re-encode as PNG), :func:`open_pil` (for third-party models);
* encoding: :func:`encode_png` (tensor or uint8 array -> PNG bytes, no metadata, so identical
  pixels give identical files), :func:`save_image` (atomic PNG file), :func:`encode_gif`;
* conversions: :func:`to_tensor`, :func:`texture_to_tensor`, :func:`to_uint8`, :func:`to_pil`.

Alpha is composited **in float**, on the decoded values: ``rgb * a + background * (1 - a)``;
the same PNG gives the same pixels whoever reads it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from photo3d.errors import Photo3DError, UnreadableImageError
from photo3d.io.atomic import atomic_write_bytes

_DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError)


def pil_to_array(im: Image.Image) -> np.ndarray:
    """PIL image -> ``[H, W, 3|4]`` uint8, keeping alpha when the image has it.

    Grey images become RGB, palette images RGB(A), 16-bit images keep their top 8 bits.
    """
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: keep the top 8 bits rather than letting PIL clip to 255
        arr = np.asarray(im, dtype=np.uint32) >> (8 if np.asarray(im).max() > 255 else 0)
        return np.repeat(arr.astype(np.uint8)[..., None], 3, axis=2)
    return np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.uint8).copy()


def decode_array(data: bytes, source: str | os.PathLike = "image") -> np.ndarray:
    """Decode PNG / JPEG / WebP / ... bytes into ``[H, W, 3|4]`` uint8 (4 when the image has alpha).

    Raises:
        UnreadableImageError: the bytes are not a (complete) image; the message names ``source``.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return pil_to_array(im)
    except _DECODE_ERRORS as exc:
        raise UnreadableImageError(source, str(exc)) from exc


def as_png(data: bytes, source: str | os.PathLike = "image") -> bytes:
    """Check that ``data`` decodes completely; return it if it is a PNG, else its PNG re-encoding.

    Raises:
        UnreadableImageError: truncated or non-image bytes.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.format == "PNG":
                return data
            return encode_png(pil_to_array(im))
    except _DECODE_ERRORS as exc:
        raise UnreadableImageError(source, f"{type(exc).__name__}: {exc}") from exc


def open_pil(data: bytes | str | os.PathLike, mode: str = "RGB") -> Image.Image:
    """A decoded PIL image in ``mode`` from bytes or a file, for third-party models that take PIL.

    Raises:
        UnreadableImageError: not a readable image.
    """
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    source = "image" if isinstance(data, bytes) else data
    return Image.fromarray(decode_array(raw, source)).convert(mode)


def texture_to_tensor(image: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """``H x W x C`` uint8 / uint16 (or float in [0, 1]) array -> ``[C, H, W]`` float32 in [0, 1]."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    scale = 255.0 if arr.dtype == np.uint8 else (65535.0 if arr.dtype == np.uint16 else 1.0)
    arr = np.ascontiguousarray(arr)
    if not arr.flags.writeable:  # PIL's buffers are read-only; torch wants to own writable memory
        arr = arr.copy()
    tex = torch.as_tensor(arr, device=device).float()
    if scale != 1.0:
        tex = tex / scale
    return tex.permute(2, 0, 1).contiguous()


def to_tensor(img: Image.Image | np.ndarray, mode: str = "RGB") -> torch.Tensor:
    """PIL image (converted to ``mode``) or ``H x W x C`` array -> ``[C, H, W]`` float32 in [0, 1]."""
    if isinstance(img, Image.Image):
        img = np.asarray(img.convert(mode))
    return texture_to_tensor(img)


def composite(rgba: torch.Tensor, background: tuple[float, ...] = (1.0, 1.0, 1.0)) -> torch.Tensor:
    """``[4, H, W]`` float RGBA -> ``[3, H, W]`` over an RGB ``background`` colour, in float."""
    bg = torch.tensor(background, dtype=rgba.dtype, device=rgba.device).view(3, 1, 1)
    return rgba[:3] * rgba[3:] + bg * (1 - rgba[3:])


def _from_array(arr: np.ndarray, mode: str, background: tuple[float, ...] | None) -> torch.Tensor:
    t = texture_to_tensor(arr)
    has_alpha = t.shape[0] == 4
    if background is not None and has_alpha:
        return composite(t, background)
    if mode == "RGBA":
        return t if has_alpha else torch.cat([t, torch.ones_like(t[:1])])
    if mode == "L":
        return to_tensor(Image.fromarray(arr), "L")
    return t[:3]


def decode_image(data: bytes, mode: str = "RGB", background: tuple[float, ...] | None = None,
                 source: str | os.PathLike = "image") -> torch.Tensor:
    """Decode image bytes as ``[C, H, W]`` float in [0, 1].

    Args:
        data: the encoded image.
        mode: ``"RGB"``, ``"RGBA"`` or ``"L"``.
        background: when given and the image has alpha, composite it over this RGB colour (the
            rig's white background is ``(1, 1, 1)``) and return RGB.
        source: what the bytes are (a file name), for the error message.

    Raises:
        UnreadableImageError: not a readable image.
    """
    return _from_array(decode_array(data, source), mode, background)


def load_image(path: str | os.PathLike, mode: str = "RGB", background: tuple[float, ...] | None = None) -> torch.Tensor:
    """Read an image file as ``[C, H, W]`` float in [0, 1] (see :func:`decode_image`).

    Raises:
        Photo3DError: missing or unreadable file (one line naming it).
    """
    path = Path(path)
    if not path.is_file():
        raise Photo3DError(f"{path}: no such image file")
    return decode_image(path.read_bytes(), mode, background, source=path)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image file, checking that its data is intact (no full decode).

    Raises:
        Photo3DError: missing or unreadable file.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            size = im.size
            im.verify()
        return size
    except FileNotFoundError as exc:
        raise Photo3DError(f"{path}: no such image file") from exc
    except _DECODE_ERRORS as exc:
        raise UnreadableImageError(path, f"{type(exc).__name__}: {exc}") from exc


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """``[C, H, W]`` float tensor in [0, 1] -> ``H x W x C`` uint8 (clamped, rounded)."""
    if img.ndim == 4 and img.shape[0] == 1:
        img = img[0]
    if img.ndim != 3 or img.shape[0] not in (1, 3, 4):
        raise ValueError(f"want an image [C, H, W] with C in 1/3/4, got {tuple(img.shape)}")
    return (img.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def to_pil(img: torch.Tensor) -> Image.Image:
    """``[C, H, W]`` (C = 1, 3 or 4) float tensor in [0, 1] -> PIL image (values clamped)."""
    arr = to_uint8(img)
    return Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)


def encode_png(img: torch.Tensor | np.ndarray) -> bytes:
    """PNG bytes of a ``[C, H, W]`` float tensor in [0, 1] or an ``H x W x C`` uint8 array.

    No metadata is written, so identical pixels give byte-identical files.
    """
    arr = to_uint8(img) if isinstance(img, torch.Tensor) else np.ascontiguousarray(img)
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.ndim == 3 and arr.shape[-1] == 1 else arr).save(
        buf, format="PNG", compress_level=6)
    return buf.getvalue()


def encode_gif(frames: list[torch.Tensor], duration_ms: int = 120) -> bytes:
    """A looping GIF of ``[3, H, W]`` frames in [0, 1] (``duration_ms`` per frame)."""
    pil = [to_pil(f) for f in frames]
    buf = io.BytesIO()
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=duration_ms, loop=0,
                optimize=False)
    return buf.getvalue()


def save_image(path: str | os.PathLike, img: torch.Tensor | np.ndarray) -> Path:
    """Write a ``[C, H, W]`` tensor in [0, 1] (or a uint8 array) as PNG, atomically."""
    return atomic_write_bytes(path, encode_png(img))
