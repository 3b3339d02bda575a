"""Where an enhance step spends its time: render, encoders forward/backward, matching, registration.

:class:`StepTimer` accumulates wall time per named section; :class:`TimedEncoder` wraps a frozen
encoder so that its forward calls are booked as ``encoder_fwd`` wherever a loss calls it. The
backward pass is split at the rendered images: a hook on them fires when the gradient has come
back through the losses and encoders (``encoder_bwd``); the rest of the backward pass is the
renderer's texture gradient (``render_bwd``). On CUDA every boundary synchronises the device,
so the split is exact at the cost of a little overlap.

Sections (seconds per step in ``record.json["timing"]["per_step"]``):

* ``render_fwd`` / ``render_bwd``: shading the cached views, and its texture gradient;
* ``encoder_fwd`` / ``encoder_bwd``: the L_adapt / L_match encoders (stand-in or paper's);
* ``matching``: the rest of the feature-loss forward (crops, L_match assignment, cosines);
* ``pixel``: the registered pixel term; ``optimizer``: Adam's update and the anchor;
* ``registration``: optical flow and warping (amortised over the steps).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator

import torch

SECTIONS = ("render_fwd", "encoder_fwd", "matching", "pixel", "encoder_bwd", "render_bwd", "optimizer",
            "registration")
_SHORT = {"render_fwd": "render", "encoder_fwd": "enc fwd", "matching": "match", "pixel": "pixel",
          "encoder_bwd": "enc bwd", "render_bwd": "render bwd", "optimizer": "adam", "registration": "reg"}


class StepTimer:
    """Accumulated wall time per section.

    Args:
        device: synchronised at every boundary when it is a CUDA device.
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.cuda = torch.device(device).type == "cuda"

    def now(self) -> float:
        """Wall clock, after the device finished its queued work."""
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Book the time spent inside the ``with`` block as ``name``."""
        t0 = self.now()
        try:
            yield
        finally:
            self.totals[name] += self.now() - t0

    def add(self, name: str, seconds: float) -> None:
        self.totals[name] += seconds

    def per_step(self, steps: int) -> dict[str, float]:
        """Mean seconds per step of every section that ran (known sections first)."""
        names = [s for s in SECTIONS if s in self.totals] + sorted(set(self.totals) - set(SECTIONS))
        return {n: round(self.totals[n] / max(steps, 1), 4) for n in names}

    def summary(self, steps: int) -> str:
        """``render 0.05 enc fwd 1.20 match 0.02 ...``: seconds per step of the sections that matter."""
        return " ".join(f"{_SHORT.get(k, k)} {v:.2f}" for k, v in self.per_step(steps).items() if v >= 0.005)


class TimedEncoder:
    """A frozen encoder whose ``embed`` / ``patch_tokens`` calls are booked as ``encoder_fwd``.

    Every other attribute (``input_size``, ``name``, ``describe``, ``parameters``...) is the wrapped
    encoder's.
    """

    def __init__(self, encoder, timer: StepTimer) -> None:
        self._encoder = encoder
        self._timer = timer

    def __getattr__(self, name: str):
        return getattr(self._encoder, name)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        with self._timer.section("encoder_fwd"):
            return self._encoder.embed(images)

    def patch_tokens(self, images: torch.Tensor) -> torch.Tensor:
        with self._timer.section("encoder_fwd"):
            return self._encoder.patch_tokens(images)


def split_backward(total: torch.Tensor, rendered: torch.Tensor, timer: StepTimer) -> None:
    """``total.backward()``, booking the part before the gradient reaches ``rendered`` as
    ``encoder_bwd`` and the rest as ``render_bwd``."""
    t0 = timer.now()
    mark: list[float] = []
    handle = rendered.register_hook(lambda g: mark.append(timer.now()) or g) if rendered.requires_grad else None
    try:
        total.backward()
    finally:
        if handle is not None:
            handle.remove()
    t1 = timer.now()
    split = mark[0] if mark else t1
    timer.add("encoder_bwd", split - t0)
    timer.add("render_bwd", t1 - split)
