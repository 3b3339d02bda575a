"""Fine-tuning paradigms: strategies that turn a training sample into rendered views for L_real.

:mod:`photo3d.paradigms.coupled` (geometry-texture coupled diffusion, TRELLIS-style, Photo3D §4a),
:mod:`photo3d.paradigms.feedforward` (feed-forward texturing, TexGaussian on ocnn, §4b) and
:mod:`photo3d.paradigms.mvdiffusion` (multi-view diffusion texturing, Step1X-3D-style, §4c). All
three share one training loop (:mod:`photo3d.train`), one Photo3D-MV reader, one renderer and one
baker. Imports are lazy so that the CLI can read the torch-free config modules quickly.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Paradigm":
        from photo3d.paradigms.base import Paradigm

        return Paradigm
    raise AttributeError(f"module 'photo3d.paradigms' has no attribute {name!r}")


__all__ = ["Paradigm"]
