"""Evaluation metrics, one module per family, and the registry the harness, the enhancer and the
dataset builder use.

Per-item metrics (:class:`Metric`): ``clip_image``, ``clip_text`` (CLIP, local weights),
``musiq``, ``maniqa``, ``nima``, ``aesthetic`` (pyiqa, local weights), and the paired-view metrics
of :mod:`.paired` (``psnr``, ``ssim``, ``lpips``, ``hf_energy_ratio``, ``speckle_ratio``, ``silhouette_iou``,
``edge_f``: rig views vs ground-truth views). Set metrics: ``fid``, ``kid`` (Inception features,
:mod:`.distribution`). The pairwise VLM judge lives in :mod:`photo3d.eval.judge`.

Homes: :mod:`.fidelity` (PSNR, SSIM, LPIPS), :mod:`.detail` (HF energy ratio, Inception
distance), :mod:`.structure` (silhouette IoU, edge F-score, patch similarity), :mod:`.paired`
(the registry), :mod:`.clip`, :mod:`.iqa`, :mod:`.distribution`.
"""

from __future__ import annotations

from photo3d.errors import InputError
from photo3d.eval.metrics.base import EvalItem, Metric, is_unavailable, unavailable
from photo3d.eval.suite import DEFAULT_METRICS
from photo3d.imaging.masks import foreground_mask

SET_METRICS = ("fid", "kid")
# Every metric is on by default, so the suite's default list is the one list of metric names.
PER_ITEM = tuple(n for n in DEFAULT_METRICS if n not in SET_METRICS + ("judge",))
ALL_METRICS = PER_ITEM + SET_METRICS + ("judge",)
_IQA = ("musiq", "maniqa", "nima", "aesthetic")


def build_metrics(
    names: list[str] | tuple[str, ...], clip_model: str | None = None, clip_scorer=None
) -> list[Metric]:
    """The per-item :class:`Metric` objects for ``names`` (set metrics and the judge are skipped).

    Args:
        names: metric names (see :data:`ALL_METRICS`).
        clip_model: local CLIP folder / cached hub id (default ``$PHOTO3D_CLIP`` or ViT-B/32).
        clip_scorer: a ready :class:`~photo3d.eval.metrics.clip.ClipScorer` (tests use a tiny one).
    """
    unknown = [n for n in names if n not in ALL_METRICS]
    if unknown:
        raise InputError(f"unknown metric(s) {unknown}; choose from {list(ALL_METRICS)}")
    out: dict[str, Metric] = {}
    if any(n.startswith("clip") for n in names):
        from photo3d.eval.metrics.clip import ClipMetrics

        out.update({m.name: m for m in ClipMetrics(clip_scorer, clip_model).metrics()})
    if any(n in _IQA for n in names):
        from photo3d.eval.metrics.iqa import iqa_metrics

        out.update({m.name: m for m in iqa_metrics([n for n in names if n in _IQA])})
    from photo3d.eval.metrics.paired import PAIRED_METRICS, paired_metric

    out.update({n: paired_metric(n) for n in names if n in PAIRED_METRICS})
    return [out[n] for n in names if n in out]


__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "PER_ITEM",
    "SET_METRICS",
    "EvalItem",
    "Metric",
    "build_metrics",
    "foreground_mask",
    "is_unavailable",
    "unavailable",
]
