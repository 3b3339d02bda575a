"""No-reference image quality and aesthetics (paper: MANIQA, MUSIQ, NIMA, Aesthetic Score).

The paper most likely used the ``pyiqa`` implementations (spec §5.2). They run here only when
``pyiqa`` is installed **and** every file its metric loads at creation is already on disk; nothing
is downloaded. Otherwise each metric is reported unavailable with the missing file named.
``pyiqa`` is an optional extra (``photo3d[iqa]``): it pulls torchvision, timm, openai-clip and
more, so it is never imported unless one of these metrics is asked for.

What ``pyiqa.create_metric`` loads (pyiqa 0.1.16, ``pyiqa/archs/*_arch.py`` and
``default_model_configs.py``; :data:`IQA_WEIGHTS`):

* the metric's head from ``chaofengc/IQA-PyTorch-Weights``, cached by pyiqa's
  ``load_file_from_url`` as ``<torch hub dir>/pyiqa/<file name>`` (``torch.hub.get_dir()``:
  ``$TORCH_HOME/hub``, by default ``~/.cache/torch/hub``);
* a backbone some heads build on: MANIQA ``timm.create_model("vit_base_patch8_224",
  pretrained=True)`` and NIMA ``inception_resnet_v2`` (timm's default tags, fetched from the
  Hugging Face hub ``timm/<tag>`` as ``model.safetensors`` or ``pytorch_model.bin`` into the hub
  cache), the LAION head ``clip.load("ViT-L/14")`` of the ``openai-clip`` package
  (``~/.cache/clip/ViT-L-14.pt``). MUSIQ needs no backbone.

If creating the metric fails anyway (a pyiqa release with other file names), the metric is
reported unavailable with pyiqa's message instead of stopping the evaluation.

Each metric is the mean of pyiqa's score over all views of an item (rig and held-out).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from photo3d._optional import install_hint, is_available
from photo3d.eval.metrics.base import EvalItem, Metric, unavailable

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


@dataclass(frozen=True)
class IQAWeights:
    """The files ``pyiqa.create_metric(name)`` loads.

    Attributes:
        head: file name in pyiqa's cache (``<torch hub dir>/pyiqa/``).
        timm: timm ``model.tag`` of the backbone (Hugging Face repo ``timm/<tag>``), if any.
        clip: OpenAI CLIP checkpoint file (``~/.cache/clip/<file>``), if any.
    """

    head: str
    timm: str | None = None
    clip: str | None = None


IQA_WEIGHTS: dict[str, IQAWeights] = {
    "musiq": IQAWeights("musiq_koniq_ckpt-e95806b9.pth"),
    "maniqa": IQAWeights("ckpt_koniq10k.pt", timm="vit_base_patch8_224.augreg2_in21k_ft_in1k"),
    "nima": IQAWeights("NIMA_InceptionV2_ava-b0c77c00.pth", timm="inception_resnet_v2.tf_in1k"),
    "laion_aes": IQAWeights("sac+logos+ava1-l14-linearMSE.pth", clip="ViT-L-14.pt"),
}
TIMM_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # what timm asks the hub for, in order


def pyiqa_cache_dir() -> Path:
    """Where pyiqa keeps downloaded heads: ``<torch.hub.get_dir()>/pyiqa`` (checked, never written)."""
    return Path(torch.hub.get_dir()) / "pyiqa"


def clip_cache_dir() -> Path:
    """Where the ``openai-clip`` package keeps its checkpoints: ``~/.cache/clip``."""
    return Path(os.path.expanduser("~/.cache/clip"))


def iqa_weight_files(pyiqa_name: str) -> list[tuple[str, Path | None, str]]:
    """``(what, local path or None, where it is looked for)`` for each file the metric loads."""
    from photo3d.encoders.registry import hub_cached_file

    w = IQA_WEIGHTS[pyiqa_name]
    head = pyiqa_cache_dir() / w.head
    out = [(f"pyiqa head {w.head}", head if head.is_file() else None, str(head))]
    if w.timm:
        repo = f"timm/{w.timm}"
        found = next((p for f in TIMM_WEIGHT_FILES if (p := hub_cached_file(repo, f)) is not None), None)
        out.append((f"timm backbone {w.timm}", found, f"the Hugging Face cache ({repo})"))
    if w.clip:
        path = clip_cache_dir() / w.clip
        out.append((f"OpenAI CLIP {w.clip}", path if path.is_file() else None, str(path)))
    return out


def iqa_unavailable_reason(pyiqa_name: str) -> str | None:
    """``None`` when the pyiqa metric can be created offline, else why not (the first missing file)."""
    if not is_available("pyiqa"):
        return (
            f"pyiqa is not installed (optional: {install_hint('pyiqa')}; it pulls torchvision/timm/openai-clip) "
            "and its pretrained weights are needed too"
        )
    missing = [(what, where) for what, path, where in iqa_weight_files(pyiqa_name) if path is None]
    if missing:
        listed = "; ".join(f"{what} (looked in {where})" for what, where in missing)
        return f"weights of pyiqa '{pyiqa_name}' are missing: {listed}; no download is attempted"
    return None


class PyIQAMetric:
    """One pyiqa metric, created on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pyiqa_name, self.higher, self.what = IQA_METRICS[name]
        self._net = None
        self._failed: str | None = None

    def reason(self) -> str | None:
        return self._failed or iqa_unavailable_reason(self.pyiqa_name)

    @torch.no_grad()
    def __call__(self, item: EvalItem) -> float | dict:
        if self._net is None:
            import pyiqa  # noqa: PLC0415 - optional; availability checked by reason()

            try:
                self._net = pyiqa.create_metric(self.pyiqa_name, device="cpu", as_loss=False)
            except Exception as exc:  # noqa: BLE001 - any creation failure is reported, not raised
                self._failed = f"pyiqa could not create '{self.pyiqa_name}' offline: {type(exc).__name__}: {exc}"
                return unavailable(self._failed)
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
