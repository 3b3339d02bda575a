"""The foreground of images on a white background.

Every photo3d image that shows an object (rig renders, edited grids, reference views) has a white
background. Whether a pixel belongs to the object is decided in one place, by how far below white
its darkest channel is: a pixel is **foreground when some channel is more than**
``white_tolerance`` **below 1**. Two tolerances are used, each named for its purpose:

* :data:`WHITE_TOLERANCE` = 5/255: the released Photo3D code's rule for L_match's background mask
  (foreground = any channel below 250/255). Tight: almost-white texture counts as object. Used by
  the losses, tone matching and anything that wants the object as rendered.
* :data:`SILHOUETTE_WHITE_TOLERANCE` = 0.06: the structure scores' rule (silhouette IoU of edited
  views, background matting). Looser, so that an image editor's slightly off-white background
  stays background; a morphological clean-up removes the remaining specks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch-free at import: configs read the tolerances below without torch
    import torch

WHITE_TOLERANCE = 5.0 / 255.0
SILHOUETTE_WHITE_TOLERANCE = 0.06


def foreground_mask(
    images: torch.Tensor,
    white_tolerance: float = WHITE_TOLERANCE,
    cleanup: int = 0,
    *,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """Object pixels of images on a white background.

    Args:
        images: ``[B, 3, H, W]`` in [0, 1].
        white_tolerance: a pixel is foreground when some channel is below ``1 - white_tolerance``.
        cleanup: radius in pixels of an opening (removes specks) followed by a closing (fills
            pin-holes); 0 = none.
        alpha: ``[B, 1, H, W]`` coverage; when given, foreground is ``alpha > 0.5`` instead (a
            render's coverage is exact, the white test is not).

    Returns:
        ``[B, 1, H, W]`` bool.

    Example:
        >>> import torch
        >>> img = torch.ones(1, 3, 4, 4); img[..., 1:3, 1:3] = 0.5
        >>> int(foreground_mask(img).sum())
        4
    """
    if alpha is not None:
        fg = alpha > 0.5
    else:
        # compared as a level (not 1 - x > tol) so 250/255 is exactly the released code's cut
        fg = (images < 1.0 - white_tolerance).any(dim=1, keepdim=True)
    if cleanup > 0:
        from photo3d.imaging.morphology import closing, opening

        fg = closing(opening(fg, cleanup), cleanup)
    return fg
