"""Background removal for generated object images (stage 3b; the paper's tool is unknown).

``rembg`` (U^2-Net family) is used when installed; otherwise a simple, documented fallback
for object-on-white images: foreground = pixels not near white
(:func:`photo3d.imaging.foreground_mask`, silhouette tolerance), keep the largest connected
component, fill its holes, and feather the edge by one pixel.

rembg's ``remove(image)`` without a session builds a new ONNX session (loading the u2net model)
on every call; here one session per model name is made with ``rembg.new_session`` the first time
and passed to every ``remove(image, session=...)`` of the process (ONNX Runtime sessions may be
shared by threads).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PIL import Image

from photo3d._optional import is_available, require
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE, foreground_mask

REMBG_MODEL = "u2net"  # rembg's default model
_SESSIONS: dict[str, Any] = {}
_SESSIONS_LOCK = threading.Lock()


def rembg_session(model: str = REMBG_MODEL) -> Any:
    """The process's one rembg session for ``model`` (created on first use)."""
    with _SESSIONS_LOCK:
        if model not in _SESSIONS:
            rembg = require("rembg", "background removal")
            _SESSIONS[model] = rembg.new_session(model)
        return _SESSIONS[model]


def remove_background(image: Image.Image, backend: str = "auto",
                      white_tolerance: float = SILHOUETTE_WHITE_TOLERANCE) -> tuple[Image.Image, str]:
    """Return ``(RGBA image, backend used)``.

    Args:
        image: the generated image (object on a plain light background).
        backend: ``"auto"`` (rembg if importable, else threshold), ``"rembg"`` or ``"threshold"``.
        white_tolerance: threshold backend: object = some channel more than this below white.
    """
    if backend == "auto":
        backend = "rembg" if is_available("rembg") else "threshold"
    if backend == "rembg":
        rembg = require("rembg", "background removal")
        return rembg.remove(image.convert("RGB"), session=rembg_session()).convert("RGBA"), "rembg"
    if backend != "threshold":
        raise ValueError(f"matting backend must be 'auto', 'rembg' or 'threshold', got {backend!r}")
    return threshold_matte(image, white_tolerance), "threshold"


def threshold_matte(image: Image.Image, white_tolerance: float = SILHOUETTE_WHITE_TOLERANCE) -> Image.Image:
    """White-background matting: largest not-near-white component, holes filled, 1 px feather."""
    from scipy import ndimage

    from photo3d.io import to_tensor

    rgb_t = to_tensor(image, "RGB")
    fg = foreground_mask(rgb_t[None], white_tolerance)[0, 0].numpy()
    rgb = rgb_t.permute(1, 2, 0).numpy()
    labels, n = ndimage.label(fg)
    if n > 1:
        sizes = ndimage.sum(fg, labels, index=np.arange(1, n + 1))
        fg = labels == (1 + int(np.argmax(sizes)))
    fg = ndimage.binary_fill_holes(fg)
    alpha = ndimage.uniform_filter(fg.astype(np.float32), size=3)  # soften the staircase edge
    alpha = np.where(fg, np.maximum(alpha, 0.5), alpha * 0.5)
    rgba = np.concatenate([rgb, alpha[..., None]], axis=2)
    return Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), "RGBA")
