"""Detail-recovery metrics on held-out views against a ground-truth texture's renders.

Used by the demo, ``record.json`` (when a ground truth is given) and
``benchmarks/detail_recovery.py``. Definitions (all per view, then averaged over views):

* **PSNR** / **SSIM**: full image (white background included), as in :mod:`photo3d.eval.metrics`.
* **HF energy ratio**: mean squared response of a 3x3 Laplacian (on luminance) over the
  ground truth's foreground, of the render divided by that of the ground truth. 1 means as much
  fine detail as the ground truth; a blurred ("plastic") texture scores well below 1; noise or
  over-sharpening scores above 1.
* **Inception distance**: cosine distance ``1 - cos(f(pred), f(gt))`` between the 2048-d pooled
  Mixed_7c features of the FID Inception-v3 (images resized to 299x299). A perceptual
  similarity that tolerates small misalignments.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from photo3d.eval.metrics.fidelity import psnr, ssim

_LUMA = (0.2126, 0.7152, 0.0722)
_LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))


def high_pass(images: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` -> ``[N, 1, H, W]`` Laplacian of the luminance (replicate padding)."""
    luma = (images * torch.tensor(_LUMA, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    k = torch.tensor(_LAPLACIAN, dtype=images.dtype, device=images.device).view(1, 1, 3, 3)
    return F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), k)


def hf_energy_ratio(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-view high-frequency energy of ``pred`` relative to ``target`` on the foreground.

    Args:
        pred, target: ``[N, 3, H, W]`` in [0, 1].
        mask: ``[N, 1, H, W]`` bool/float foreground; eroded by one pixel so the silhouette edge
            (identical in both renders) does not dominate.

    Returns:
        ``[N]`` ratios (``nan`` for views with no foreground).
    """
    m = mask.float()
    m = -F.max_pool2d(-m, 3, stride=1, padding=1)  # erode: drop the silhouette's own edge
    e_pred = (high_pass(pred).square() * m).flatten(1).sum(1)
    e_gt = (high_pass(target).square() * m).flatten(1).sum(1)
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


def detail_metrics(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, encoder=None) -> dict[str, float]:
    """All held-out metrics, averaged over views.

    Args:
        pred: ``[N, 3, H, W]`` renders of the asset being scored.
        target: ``[N, 3, H, W]`` renders of the ground truth at the same cameras.
        mask: ``[N, 1, H, W]`` foreground of the ground-truth renders.
        encoder: encoder for the Inception distance (skipped when ``None``).

    Returns:
        ``{"psnr", "ssim", "hf_energy_ratio", "inception_distance"?}`` as floats.
    """
    pred, target = pred.detach().float().cpu(), target.detach().float().cpu()
    out = {
        "psnr": float(psnr(pred, target).mean()),
        "ssim": float(ssim(pred, target).mean()),
        "hf_energy_ratio": float(torch.nanmean(hf_energy_ratio(pred, target, mask.cpu()))),
    }
    if encoder is not None:
        out["inception_distance"] = float(inception_distance(pred, target, encoder).mean())
    return out
