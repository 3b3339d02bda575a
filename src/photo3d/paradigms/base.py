"""The contract between a fine-tuning paradigm and the training loop.

A paradigm is a strategy object (gsplat-style): it owns the networks it trains but keeps no
mutable run state itself. Everything that changes from step to step and must survive a resume
(random generators, counters) lives in the ``state`` dict it creates in :meth:`init_state` and
receives back in every :meth:`step`. The loop owns the loss, the optimiser and the checkpoints,
so the same loop drives any generator family.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from photo3d.cameras import Cameras


@runtime_checkable
class Paradigm(Protocol):
    """What :func:`photo3d.train.loop.train` needs from a fine-tuning strategy."""

    name: str

    def trainable_modules(self) -> dict[str, nn.Module]:
        """Modules whose parameters the optimiser updates (the paper's flame icons)."""

    def modules(self) -> dict[str, nn.Module]:
        """Every module whose weights a checkpoint stores (trainable or not)."""

    def init_state(self, seed: int) -> dict[str, Any]:
        """Fresh per-run state; values that are ``torch.Generator`` are checkpointed."""

    def cameras(self, sample: dict) -> Cameras:
        """The cameras the sample's target views were taken from (the rig)."""

    def step(self, batch: list[dict], state: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Render the batch for the loss.

        Args:
            batch: samples from :class:`~photo3d.train.dataset.Photo3DMVDataset`.
            state: the dict from :meth:`init_state` (mutated in place).

        Returns:
            ``views [B*V, 3, H, W]`` in [0, 1] and an aux dict with at least
            ``"targets" [B*V, 3, H, W]`` (the edited views, same order) and scalars to log.
        """

    def sample_grid(self, sample: dict, resolution: int, steps: int, cfg_scale: float, seed: int) -> torch.Tensor:
        """Generate the sample's asset from scratch and render the rig grid ``[3, 2R, 2R]``."""
