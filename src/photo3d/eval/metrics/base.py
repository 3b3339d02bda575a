"""What a metric is, and how a metric that cannot run says so.

Every metric reports its exact definition and the model that produced the number. A metric whose
model (or package) is absent never returns a number: it returns ``{"status": "unavailable",
"reason": ...}`` and the harness carries that record into the results unchanged.

Two kinds of metric exist:

* **per-item** metrics score one evaluation item (an asset's views, optionally with a reference)
  and return a float (or an unavailable record); the harness averages them over items.
* **set** metrics (FID, KID) compare two sets of images; they work on cached per-image features so
  that bootstrapping and resuming never recompute the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch


@dataclass
class EvalItem:
    """One thing to score: the views of an asset from one method.

    Attributes:
        id: item id, shared across methods so results pair up.
        views: ``[V, 3, H, W]`` renders in [0, 1] (rig views first, then held-out views).
        view_names: one label per view (``"rig_yaw0"``, ``"heldout_3"``...).
        alpha: ``[V, 1, H, W]`` coverage, or ``None`` (then derived from a white background).
        gt_views: ``[R, 3, H, W]`` ground truth for the first R views (the rig), or ``None``.
        reference_image: ``[3, H, W]`` the input/condition image, or ``None``.
        prompt: the text prompt, or ``None``.
        glb: path of a GLB showing the item (for the report), or ``None``.
    """

    id: str
    views: torch.Tensor
    view_names: list[str] = field(default_factory=list)
    alpha: torch.Tensor | None = None
    gt_views: torch.Tensor | None = None
    reference_image: torch.Tensor | None = None
    prompt: str | None = None
    glb: str | None = None

    @property
    def n_rig(self) -> int:
        """How many leading views are rig views (those a ground-truth grid covers)."""
        names = self.view_names or ["rig"] * len(self.views)
        return sum(1 for n in names if n.startswith("rig"))


def unavailable(reason: str) -> dict:
    """The record a metric returns instead of a number when it cannot run."""
    return {"status": "unavailable", "reason": reason}


def is_unavailable(value: Any) -> bool:
    """True for a record produced by :func:`unavailable`."""
    return isinstance(value, dict) and value.get("status") == "unavailable"


@dataclass
class Metric:
    """A named per-item metric.

    Attributes:
        name: key in the results (``"psnr"``, ``"clip_text"``...).
        definition: exact definition, written into results.json.
        model: the model that produces the number (``"none"`` for closed-form metrics).
        higher_is_better: direction, used by reports and paired comparisons; ``None`` for a ratio
            to the ground truth, where the ground truth's value (1) is best.
        fn: ``fn(item) -> float | unavailable-record``.
        availability: ``() -> None`` when usable, else the reason string.
    """

    name: str
    definition: str
    model: str
    higher_is_better: bool | None
    fn: Callable[[EvalItem], Any]
    availability: Callable[[], str | None] = lambda: None

    def describe(self) -> dict:
        """JSON description stored with the results."""
        reason = self.availability()
        out = {
            "definition": self.definition,
            "model": self.model,
            "higher_is_better": self.higher_is_better,
            "kind": "per_item",
        }
        if reason:
            out.update(unavailable(reason))
        return out

    def __call__(self, item: EvalItem) -> Any:
        reason = self.availability()
        if reason:
            return unavailable(reason)
        return self.fn(item)


def to_jsonable(value: Any) -> Any:
    """Floats that JSON cannot hold (inf, nan) become the strings ``"inf"``, ``"-inf"``, ``"nan"``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return to_jsonable(value.item())
    return value


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable` for scalar values."""
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value

