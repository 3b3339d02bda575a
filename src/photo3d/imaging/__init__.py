"""Image primitives shared by every part of photo3d: masks, morphology, luminance, filters, tone.

One definition per concept, used by the losses, the enhancer, the dataset builder and the
evaluation alike:

* :mod:`.masks`: the foreground of images on the rig's white background, with the threshold
  named by what it means (``white_tolerance``: how far below white a channel must be to count
  as object).
* :mod:`.morphology`: dilation, erosion, opening and closing of ``[B, 1, H, W]`` masks.
* :mod:`.color`: luminance (Rec. 709, the sRGB primaries) and saturation changes.
* :mod:`.filters`: Gaussian and 3x3 binomial blurs, the Sobel gradient, the 3x3 Laplacian.
* :mod:`.resample`: resizing (bilinear, antialiased) and the pixel-centre grid.
* :mod:`.tone`: tone matching of one set of views to another on their foregrounds.

Images are float tensors in [0, 1], ``[B, 3, H, W]``; masks are ``[B, 1, H, W]``. Loaded lazily:
``import photo3d.imaging`` does not import torch.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports

# defining module -> its public names
_MODULES: dict[str, tuple[str, ...]] = {
    "masks": ("WHITE_TOLERANCE", "SILHOUETTE_WHITE_TOLERANCE", "foreground_mask"),
    "morphology": ("dilate", "erode", "opening", "closing"),
    "color": ("LUMA_REC709", "luminance", "saturate"),
    "filters": ("gaussian_blur", "binomial_blur", "sobel", "laplacian"),
    "resample": ("resize", "pixel_centres"),
    "tone": ("TONE_MODES", "match_tone"),
}
_LAZY = {name: f"photo3d.imaging.{module}" for module, names in _MODULES.items() for name in names}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
