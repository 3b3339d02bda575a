"""Fine-tuning paradigms: strategies that turn a training sample into rendered views for L_real.

:mod:`photo3d.paradigms.coupled` (TRELLIS-style, Photo3D §4a) and
:mod:`photo3d.paradigms.feedforward` (TexGaussian on ocnn, §4b). Imports are lazy so that the CLI
can read the torch-free config modules quickly.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Paradigm":
        from photo3d.paradigms.base import Paradigm

        return Paradigm
    raise AttributeError(f"module 'photo3d.paradigms' has no attribute {name!r}")


__all__ = ["Paradigm"]
