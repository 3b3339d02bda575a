"""Evaluation metrics, one module per family, and the registry the harness uses.

Per-item metrics (:class:`Metric`): ``clip_image``, ``clip_text`` (CLIP, local weights),
``musiq``, ``maniqa``, ``nima``, ``aesthetic`` (pyiqa, local weights), ``psnr``, ``ssim``,
``lpips`` (vs ground-truth views), ``silhouette_iou``, ``edge_f`` (structure vs ground truth).
Set metrics: ``fid``, ``kid`` (Inception features, :mod:`.distribution`). The pairwise VLM judge
lives in :mod:`photo3d.eval.judge`.
"""

from __future__ import annotations

from photo3d.errors import InputError
from photo3d.eval.metrics.base import EvalItem, Metric, foreground_mask, is_unavailable, unavailable
from photo3d.eval.suite import DEFAULT_METRICS

SET_METRICS = ("fid", "kid")
# Every metric is on by default, so the suite's default list is the one list of metric names.
PER_ITEM = tuple(n for n in DEFAULT_METRICS if n not in SET_METRICS + ("judge",))
ALL_METRICS = PER_ITEM + SET_METRICS + ("judge",)


def build_metrics(
    names: list[str] | tuple[str, ...], clip_model: str | None = None, clip_scorer=None
) -> list[Metric]:
    """The per-item :class:`Metric` objects for ``names`` (set metrics and the judge are skipped).

    Args:
        names: metric names (see :data:`ALL_METRICS`).
        clip_model: local CLIP folder / cached hub id (default ``$PHOTO3D_CLIP_MODEL`` or ViT-B/32).
        clip_scorer: a ready :class:`~photo3d.eval.metrics.clip.ClipScorer` (tests use a tiny one).
    """
    unknown = [n for n in names if n not in ALL_METRICS]
    if unknown:
        raise InputError(f"unknown metric(s) {unknown}; choose from {list(ALL_METRICS)}")
    out: dict[str, Metric] = {}
    if any(n.startswith("clip") for n in names):
        from photo3d.eval.metrics.clip import ClipMetrics

        out.update({m.name: m for m in ClipMetrics(clip_scorer, clip_model).metrics()})
    if any(n in ("musiq", "maniqa", "nima", "aesthetic") for n in names):
        from photo3d.eval.metrics.iqa import iqa_metrics

        out.update(
            {
                m.name: m
                for m in iqa_metrics([n for n in names if n in ("musiq", "maniqa", "nima", "aesthetic")])
            }
        )
    if any(n in ("psnr", "ssim", "lpips") for n in names):
        from photo3d.eval.metrics.fidelity import fidelity_metrics

        out.update({m.name: m for m in fidelity_metrics()})
    if any(n in ("silhouette_iou", "edge_f") for n in names):
        from photo3d.eval.metrics.structure import structure_metrics

        out.update({m.name: m for m in structure_metrics()})
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
