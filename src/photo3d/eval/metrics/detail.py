"""Detail metrics: how much fine detail a render has, and how it looks, against a ground truth.

* **HF energy ratio**: mean squared response of the 3x3 Laplacian of the (Rec. 709) luminance
  over the ground truth's foreground, of the render divided by that of the ground truth. 1 means
  as much fine detail as the ground truth; a blurred ("plastic") texture scores well below 1;
  noise or over-sharpening scores above 1. The foreground is eroded by one pixel so the
  silhouette edge (identical in both renders) does not dominate.
* **speckle ratio**: the same on colour instead of luminance. Chroma = the opponent channels
  ``B - Y`` and ``R - Y``; their 3x3 Laplacian energy over the eroded foreground, render / ground
  truth. Feature losses optimised through a CNN paint pixel-scale colour noise ("speckle") into a
  texture; luminance detail is what enhancement should add, colour that flips from texel to
  texel almost never is. The ground truth scores 1, a blurred, desaturated texture below 1, and
  chroma noise raises it (Gaussian noise of 5 % per channel adds ~40 % on a label of sharp colour
  blocks, whose own edges carry most of the energy); grey (luminance-only) changes do not move it
  at all. It is a ratio to the ground truth's colour detail, so a speckled texture that is still
  blurrier than the ground truth can score below 1: compare with the input's score too.
* **Inception distance**: cosine distance ``1 - cos(f(pred), f(gt))`` between the 2048-d pooled
  Mixed_7c features of the FID Inception-v3 (images resized to 299x299). A perceptual
  similarity that tolerates small misalignments.

:func:`detail_metrics` is what ``photo3d enhance --ground-truth``, the demo and
``benchmarks/detail_recovery.py`` report on held-out views; ``photo3d eval`` reports the HF energy
ratio through the paired-metric registry (:mod:`photo3d.eval.metrics.paired`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from photo3d.imaging.color import luminance
from photo3d.imaging.filters import laplacian
from photo3d.imaging.morphology import erode

SPECKLE_DEF = (
    "speckle ratio per rig view: sum over the ground truth's foreground (eroded 1 px) of the squared 3x3 "
    "Laplacian of the opponent chroma channels B-Y and R-Y (Rec. 709 Y), render / ground truth; mean over views "
    "(1 = as much colour detail as the ground truth, > 1 colour noise)"
)
HF_DEF = (
    "high-frequency energy ratio per rig view: sum over the ground truth's foreground (eroded 1 px) of the "
    "squared 3x3 Laplacian of the Rec. 709 luminance, render / ground truth; mean over views (1 = as much "
    "fine detail as the ground truth, < 1 blurrier, > 1 noisier)"
)


def high_pass(images: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` -> ``[N, 1, H, W]`` Laplacian of the luminance (replicate padding)."""
    return laplacian(luminance(images))


def hf_energy_ratio(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-view high-frequency energy of ``pred`` relative to ``target`` on the foreground.

    Args:
        pred, target: ``[N, 3, H, W]`` in [0, 1].
        mask: ``[N, 1, H, W]`` bool/float foreground of ``target``.

    Returns:
        ``[N]`` ratios (``nan`` for views with no foreground).
    """
    return _energy_ratio(high_pass, pred, target, mask)


def chroma(images: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` RGB -> ``[N, 2, H, W]`` opponent chroma ``(B - Y, R - Y)`` (Rec. 709 Y)."""
    y = luminance(images)
    return torch.cat([images[:, 2:3] - y, images[:, 0:1] - y], dim=1)


def speckle_ratio(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-view chroma high-frequency energy of ``pred`` relative to ``target`` (see module docs).

    Args:
        pred, target: ``[N, 3, H, W]`` in [0, 1], same cameras.
        mask: ``[N, 1, H, W]`` bool/float foreground of ``target``.

    Returns:
        ``[N]`` ratios (1 = as much colour detail as the target, > 1 = colour noise added; ``nan``
        for views without foreground or without colour detail in the target).
    """
    return _energy_ratio(lambda x: laplacian(chroma(x.float())), pred, target, mask)


def _energy_ratio(band, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per view, the energy of ``band(pred)`` over ``target``'s foreground (eroded 1 px, so the
    silhouette's own edge does not count) divided by that of ``band(target)``; ``nan`` where the
    target has none."""
    m = erode(mask.float(), 1)
    e_pred = (band(pred).square().sum(1, keepdim=True) * m).flatten(1).sum(1)
    e_gt = (band(target).square().sum(1, keepdim=True) * m).flatten(1).sum(1)
    return torch.where(e_gt > 0, e_pred / e_gt.clamp_min(1e-12), torch.full_like(e_gt, float("nan")))


@torch.no_grad()
def inception_distance(pred: torch.Tensor, target: torch.Tensor, encoder) -> torch.Tensor:
    """Per-view cosine distance of pooled Inception (or any encoder's global) features.

    Args:
        pred, target: ``[N, 3, H, W]`` in [0, 1].
        encoder: an :class:`~photo3d.encoders.base.Encoder` (``embed`` and ``input_size``).

    Returns:
        ``[N]`` distances in [0, 2].
    """
    size = int(getattr(encoder, "input_size", 299))
    dev = next(iter(encoder.parameters())).device if hasattr(encoder, "parameters") else pred.device

    def feats(x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        return F.normalize(encoder.embed(x.to(dev)).float(), dim=-1)

    return (1.0 - (feats(pred) * feats(target)).sum(-1)).cpu()


DETAIL_METRICS = ("psnr", "ssim", "hf_energy_ratio", "speckle_ratio")
_RATIOS = ("hf_energy_ratio", "speckle_ratio")  # nan on views without detail: averaged with nanmean


def detail_metrics(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, encoder=None) -> dict[str, float]:
    """Held-out detail metrics, averaged over views.

    Args:
        pred: ``[N, 3, H, W]`` renders of the asset being scored.
        target: ``[N, 3, H, W]`` renders of the ground truth at the same cameras.
        mask: ``[N, 1, H, W]`` foreground of the ground-truth renders.
        encoder: encoder for the Inception distance (skipped when ``None``).

    Returns:
        ``{"psnr", "ssim", "hf_energy_ratio", "speckle_ratio", "inception_distance"?}`` as floats (PSNR and SSIM
        as defined in :mod:`photo3d.eval.metrics.fidelity`).
    """
    from photo3d.eval.metrics.paired import paired_scores

    pred, target = pred.detach().float().cpu(), target.detach().float().cpu()
    scores = paired_scores(DETAIL_METRICS, pred, target, mask.cpu())
    out = {name: float(torch.nanmean(v)) if name in _RATIOS else float(v.mean())
           for name, v in scores.items()}
    if encoder is not None:
        out["inception_distance"] = float(inception_distance(pred, target, encoder).mean())
    return out
