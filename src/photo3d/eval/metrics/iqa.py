"""No-reference image quality and aesthetics (paper: MANIQA, MUSIQ, NIMA, Aesthetic Score).

The paper most likely used the ``pyiqa`` implementations (spec §5.2). They run here only when
``pyiqa`` is installed **and** the metric's pretrained weights are already on disk (pyiqa's cache,
``$PYIQA_CACHE`` or ``~/.cache/torch/hub/pyiqa``); nothing is downloaded. Otherwise each metric is
reported unavailable with the reason. ``pyiqa`` is an optional extra (``photo3d[iqa]``): it pulls
torchvision, timm, opencv and more, so it is never imported unless one of these metrics is asked for.

Each metric is the mean of pyiqa's score over all views of an item (rig and held-out).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from photo3d._optional import install_hint, is_available
from photo3d.eval.metrics.base import EvalItem, Metric

# our name -> (pyiqa metric name, higher is better, what it is)
IQA_METRICS: dict[str, tuple[str, bool, str]] = {
    "musiq": ("musiq", True, "MUSIQ (Ke et al. 2021), KonIQ-10k head, pyiqa 'musiq'; score ~0-100"),
    "maniqa": ("maniqa", True, "MANIQA (Yang et al. 2022), KonIQ head, pyiqa 'maniqa'; score ~0-1"),
    "nima": ("nima", True, "NIMA (Talebi & Milanfar 2018), AVA, pyiqa 'nima'; mean of the 1-10 distribution"),
    "aesthetic": (
        "laion_aes",
        True,
        "LAION aesthetic predictor (CLIP ViT-L/14 + MLP), pyiqa 'laion_aes'; ~1-10",
    ),
}


def pyiqa_cache_dirs() -> list[Path]:
    """Where pyiqa keeps downloaded weights (checked for files, never written)."""
    dirs = []
    if os.environ.get("PYIQA_CACHE"):
        dirs.append(Path(os.environ["PYIQA_CACHE"]))
    dirs.append(Path(torch.hub.get_dir()) / "pyiqa")
    dirs.append(Path.home() / ".cache" / "pyiqa")
    return dirs


def iqa_unavailable_reason(pyiqa_name: str) -> str | None:
    """``None`` when the pyiqa metric can run offline, else why not."""
    if not is_available("pyiqa"):
        return (
            f"pyiqa is not installed (optional: {install_hint('pyiqa')}; it pulls torchvision/timm/opencv) and "
            "its pretrained weights are needed too"
        )
    stem = pyiqa_name.split("_")[0].lower()
    for d in pyiqa_cache_dirs():
        if d.is_dir() and any(stem in p.name.lower() for p in d.rglob("*.pth")):
            return None
    return (
        f"pyiqa weights for '{pyiqa_name}' are not in {', '.join(map(str, pyiqa_cache_dirs()))}; "
        "no download is attempted (copy them there to enable)"
    )


class PyIQAMetric:
    """One pyiqa metric, created on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pyiqa_name, self.higher, self.what = IQA_METRICS[name]
        self._net = None

    def reason(self) -> str | None:
        return iqa_unavailable_reason(self.pyiqa_name)

    @torch.no_grad()
    def __call__(self, item: EvalItem) -> float:
        if self._net is None:
            import pyiqa  # noqa: PLC0415 - optional; availability checked by reason()

            self._net = pyiqa.create_metric(self.pyiqa_name, device="cpu", as_loss=False)
        return float(self._net(item.views.float().clamp(0, 1)).mean())

    def metric(self) -> Metric:
        return Metric(
            self.name,
            f"mean over views of {self.what}",
            f"pyiqa {self.pyiqa_name}",
            self.higher,
            self,
            self.reason,
        )


def iqa_metrics(names: list[str] | None = None) -> list[Metric]:
    """The requested no-reference IQA metrics (default: all four)."""
    return [PyIQAMetric(n).metric() for n in (names or list(IQA_METRICS))]
