"""Linear filters of image batches: blurs and derivatives.

* :func:`gaussian_blur`: separable Gaussian, reflect padding (degradations, smooth noise fields).
* :func:`binomial_blur`: the 3x3 ``[1, 2, 1]^T [1, 2, 1] / 16`` kernel, replicate padding (a cheap
  pre-blur before derivatives).
* :func:`sobel`: horizontal and vertical Sobel gradients, scaled so a unit step gives 1.
* :func:`laplacian`: the 4-neighbour 3x3 Laplacian (high-pass), replicate padding.

All take ``[B, C, H, W]`` and filter every channel on its own.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _depthwise(images: torch.Tensor, kernel: torch.Tensor, pad: tuple[int, int, int, int], mode: str) -> torch.Tensor:
    c = images.shape[1]
    k = kernel.to(dtype=images.dtype, device=images.device)
    return F.conv2d(F.pad(images, pad, mode=mode), k.expand(c, 1, *k.shape[-2:]), groups=c)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding.

    Args:
        images: ``[B, C, H, W]`` float images.
        sigma: standard deviation in pixels (<= 0 returns the input).

    Returns:
        ``[B, C, H, W]`` blurred images.
    """
    if sigma <= 0:
        return images
    radius = max(1, int(math.ceil(3.0 * sigma)))
    radius = min(radius, images.shape[-1] - 1, images.shape[-2] - 1)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    out = _depthwise(images, k.view(1, 1, 1, -1), (radius, radius, 0, 0), "reflect")
    return _depthwise(out, k.view(1, 1, -1, 1), (0, 0, radius, radius), "reflect")


def binomial_blur(images: torch.Tensor) -> torch.Tensor:
    """3x3 binomial blur ``[1, 2, 1]^T [1, 2, 1] / 16`` with replicate padding, ``[B, C, H, W]``."""
    k = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
    return _depthwise(images, k.view(1, 1, 3, 3), (1, 1, 1, 1), "replicate")


def sobel(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel gradients ``(d/dx, d/dy)`` of ``[B, C, H, W]``, each ``[B, C, H, W]``; a unit step gives 1."""
    sx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 4.0
    gx = _depthwise(images, sx.view(1, 1, 3, 3), (1, 1, 1, 1), "replicate")
    gy = _depthwise(images, sx.T.contiguous().view(1, 1, 3, 3), (1, 1, 1, 1), "replicate")
    return gx, gy


def laplacian(images: torch.Tensor) -> torch.Tensor:
    """4-neighbour Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` with replicate padding."""
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    return _depthwise(images, k.view(1, 1, 3, 3), (1, 1, 1, 1), "replicate")
