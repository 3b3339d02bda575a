"""Settings of ``photo3d demo`` (torch-free so the CLI can build its options from them).

The defaults are sized for a 2-core CPU (a few minutes); raise ``--resolution``/``--steps`` on a
GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from photo3d.config import TypedConfig, option
from photo3d.encoders.selection import EncoderPref


@dataclass
class DemoConfig(TypedConfig):
    """The offline detail-recovery demo on the bundled YCB sugar box."""

    resolution: int = option(256, "render resolution (the rig uses 512)")
    steps: int = option(60, "optimisation steps")
    lr: float = option(0.003, "Adam learning rate")
    n_crops: int = option(4, "L_adapt crops per view")
    views_per_step: int = option(2, "reference views per step (0 = all 4)")
    encoders: EncoderPref = option("offline",
        "offline (Inception stand-in, no weights needed), paper (CLIP + DINOv3 from local files) or tiny "
        "(random test doubles)")
    device: str = option("auto", "auto, cpu or cuda")
    seed: int = option(0, "seed of the editor drift and the optimisation")

