"""Images at module boundaries are float tensors in [0, 1], channels first; PNG on disk."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from photo3d.errors import Photo3DError
from photo3d.io.atomic import atomic_write_bytes


def to_tensor(img: Image.Image | np.ndarray, mode: str = "RGB") -> torch.Tensor:
    """PIL image or ``HxWxC`` uint8 array -> ``[C, H, W]`` float32 in [0, 1]."""
    if isinstance(img, Image.Image):
        img = np.asarray(img.convert(mode))
    arr = np.asarray(img)
    if arr.ndim == 2:
        arr = arr[..., None]
    scale = 255.0 if arr.dtype == np.uint8 else (65535.0 if arr.dtype == np.uint16 else 1.0)
    return torch.from_numpy(np.ascontiguousarray(arr.astype(np.float32) / scale)).permute(2, 0, 1)


def to_pil(img: torch.Tensor) -> Image.Image:
    """``[C, H, W]`` (C = 1, 3 or 4) float tensor in [0, 1] -> PIL image (values clamped)."""
    if img.ndim == 4 and img.shape[0] == 1:
        img = img[0]
    if img.ndim != 3 or img.shape[0] not in (1, 3, 4):
        raise ValueError(f"to_pil wants [C, H, W] with C in 1/3/4, got {tuple(img.shape)}")
    arr = (img.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)


def load_image(path: str | os.PathLike, mode: str = "RGB", background: tuple[float, ...] | None = None) -> torch.Tensor:
    """Read an image file as ``[C, H, W]`` float in [0, 1].

    Args:
        mode: ``"RGB"``, ``"RGBA"`` or ``"L"``.
        background: when given and the file has alpha, composite it over this RGB colour
            (the rig's white background is ``(1, 1, 1)``) and return RGB.
    """
    path = Path(path)
    if not path.is_file():
        raise Photo3DError(f"{path}: no such image file")
    try:
        with Image.open(path) as im:
            im.load()
            has_alpha = im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info)
            if background is not None and has_alpha:
                rgba = to_tensor(im, "RGBA")
                bg = torch.tensor(background, dtype=rgba.dtype).view(3, 1, 1)
                return rgba[:3] * rgba[3:] + bg * (1 - rgba[3:])
            return to_tensor(im, mode)
    except (UnidentifiedImageError, OSError) as exc:
        raise Photo3DError(f"{path}: not a readable image ({exc})") from exc


def save_image(path: str | os.PathLike, img: torch.Tensor) -> Path:
    """Write a ``[C, H, W]`` tensor in [0, 1] as PNG, atomically."""
    buf = io.BytesIO()
    to_pil(img).save(buf, format="PNG")
    return atomic_write_bytes(path, buf.getvalue())
