"""The paired-view metric registry: every metric that scores views against ground-truth views.

One table, :data:`PAIRED_METRICS`, defines each metric once (its function, exact definition,
direction, model and the packages it needs). Everything that compares views with a ground truth
uses it:

* ``photo3d eval`` turns each entry into a per-item :class:`~photo3d.eval.metrics.base.Metric`
  over an item's rig views (:func:`paired_metric`);
* ``photo3d enhance --ground-truth`` and the demo score held-out views with
  :func:`~photo3d.eval.metrics.detail.detail_metrics`, which reads PSNR, SSIM and the HF energy
  ratio from here;
* the dataset builder's structure check uses the same silhouette IoU and edge F-score
  (:func:`~photo3d.eval.metrics.structure.structure_scores`, with its own tolerances).

A metric function takes ``(pred [V,3,H,W], target [V,3,H,W], mask [V,1,H,W] bool)`` (``mask`` is
the ground truth's foreground) and returns ``[V]`` per-view values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from photo3d._optional import is_available, require
from photo3d.eval.metrics.base import EvalItem, Metric, unavailable
from photo3d.eval.metrics.detail import HF_DEF, SPECKLE_DEF, hf_energy_ratio, speckle_ratio
from photo3d.eval.metrics.fidelity import (
    LPIPS_DEF,
    PSNR_DEF,
    SSIM_DEF,
    lpips,
    lpips_unavailable_reason,
    paired_views,
    psnr,
    ssim,
)
from photo3d.eval.metrics.structure import EDGE_DEF, IOU_DEF, structure_scores
from photo3d.imaging.masks import WHITE_TOLERANCE, foreground_mask

ViewScore = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class PairedMetric:
    """A per-view metric against ground-truth views.

    Attributes:
        name: key in results and records.
        definition: exact definition (written into results.json).
        higher_is_better: direction (``None``: a ratio to the ground truth, best at 1).
        fn: ``(pred, target, mask) -> [V]``.
        model: what produces the number (``"none (closed form)"`` for formulas).
        requires: importable modules the metric needs (checked before any work).
        availability: ``() -> None`` when usable, else why not (for weights and similar).
    """

    name: str
    definition: str
    higher_is_better: bool | None
    fn: ViewScore
    model: str = "none (closed form)"
    requires: tuple[str, ...] = ()
    availability: Callable[[], str | None] | None = None

    def reason(self) -> str | None:
        """``None`` when the metric can run here, else why not."""
        missing = [m for m in self.requires if not is_available(m)]
        if missing:
            return f"{self.name} needs {', '.join(missing)} (not installed)"
        return self.availability() if self.availability else None


PAIRED_METRICS: dict[str, PairedMetric] = {m.name: m for m in (
    PairedMetric("psnr", PSNR_DEF, True, lambda p, t, m: psnr(p, t)),
    PairedMetric("ssim", SSIM_DEF, True, lambda p, t, m: ssim(p, t), "none (closed form, torchmetrics)",
                 requires=("torchmetrics",)),
    PairedMetric("lpips", LPIPS_DEF, False, lambda p, t, m: lpips(p, t), "lpips AlexNet v0.1",
                 availability=lpips_unavailable_reason),
    PairedMetric("hf_energy_ratio", HF_DEF, None, hf_energy_ratio),
    PairedMetric("speckle_ratio", SPECKLE_DEF, False, speckle_ratio),
    PairedMetric("silhouette_iou", IOU_DEF, True, lambda p, t, m: structure_scores(t, p)["iou"]),
    PairedMetric("edge_f", EDGE_DEF, True, lambda p, t, m: structure_scores(t, p)["edge_f"],
                 "none (closed form, Sobel)"),
)}


def require_paired(names: Sequence[str], feature: str) -> None:
    """Raise :class:`~photo3d.errors.MissingDependencyError` now if a metric's package is missing.

    Called before long runs (an enhance optimisation, the demo) so that a missing optional
    package fails up front with its install hint instead of after the work is done.
    """
    for name in names:
        for module in PAIRED_METRICS[name].requires:
            require(module, f"{feature} ({name})")


def paired_scores(names: Sequence[str], pred: torch.Tensor, target: torch.Tensor,
                  mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per-view values of the metrics ``names``.

    Args:
        names: keys of :data:`PAIRED_METRICS`.
        pred: ``[V, 3, H, W]`` renders in [0, 1].
        target: ``[V, 3, H, W]`` ground truth in [0, 1].
        mask: ``[V, 1, H, W]`` bool foreground of ``target`` (default: its non-white pixels).

    Returns:
        name -> ``[V]``.
    """
    if mask is None:
        mask = foreground_mask(target, WHITE_TOLERANCE)
    return {name: PAIRED_METRICS[name].fn(pred, target, mask) for name in names}


def paired_metric(name: str) -> Metric:
    """The per-item evaluation :class:`Metric` of a registry entry: mean over the item's rig views."""
    pm = PAIRED_METRICS[name]

    def score(item: EvalItem):
        pair = paired_views(item)
        if pair is None:
            return unavailable("no ground-truth views for this item")
        pred, gt = pair
        values = pm.fn(pred, gt, foreground_mask(gt, WHITE_TOLERANCE))
        return float(torch.nanmean(values))

    return Metric(name, pm.definition, pm.model, pm.higher_is_better, score, pm.reason)
