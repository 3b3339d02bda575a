"""Background removal for generated object images (stage 3b; the paper's tool is unknown).

``rembg`` (U^2-Net family) is used when installed; otherwise a simple, documented fallback
for object-on-white images: foreground = pixels not near white, keep the largest connected
component, fill its holes, and feather the edge by one pixel.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from photo3d._optional import is_available, require


def remove_background(image: Image.Image, backend: str = "auto", white_threshold: float = 0.06) -> tuple[Image.Image, str]:
    """Return ``(RGBA image, backend used)``.

    Args:
        image: the generated image (object on a plain light background).
        backend: ``"auto"`` (rembg if importable, else threshold), ``"rembg"`` or ``"threshold"``.
        white_threshold: background = every channel within this of white (threshold backend).
    """
    if backend == "auto":
        backend = "rembg" if is_available("rembg") else "threshold"
    if backend == "rembg":
        rembg = require("rembg", "background removal")
        return rembg.remove(image.convert("RGB")).convert("RGBA"), "rembg"
    if backend != "threshold":
        raise ValueError(f"matting backend must be 'auto', 'rembg' or 'threshold', got {backend!r}")
    return threshold_matte(image, white_threshold), "threshold"


def threshold_matte(image: Image.Image, white_threshold: float = 0.06) -> Image.Image:
    """White-background matting: largest not-near-white component, holes filled, 1 px feather."""
    from scipy import ndimage

    rgb = np.asarray(image.convert("RGB")).astype(np.float32) / 255.0
    fg = (1.0 - rgb).max(axis=2) > white_threshold
    labels, n = ndimage.label(fg)
    if n > 1:
        sizes = ndimage.sum(fg, labels, index=np.arange(1, n + 1))
        fg = labels == (1 + int(np.argmax(sizes)))
    fg = ndimage.binary_fill_holes(fg)
    alpha = ndimage.uniform_filter(fg.astype(np.float32), size=3)  # soften the staircase edge
    alpha = np.where(fg, np.maximum(alpha, 0.5), alpha * 0.5)
    rgba = np.concatenate([rgb, alpha[..., None]], axis=2)
    return Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), "RGBA")
