"""Settings of ``photo3d demo`` (torch-free so the CLI can build its options from them).

The defaults are sized for a 2-core CPU (a few minutes); raise ``--resolution``/``--steps`` on a
GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from photo3d.config import TypedConfig
from photo3d.encoders.selection import EncoderPref


@dataclass
class DemoConfig(TypedConfig):
    """The offline detail-recovery demo on the bundled YCB sugar box."""

    resolution: int = field(default=256, metadata={"help": "render resolution (the rig uses 512)"})
    steps: int = field(default=60, metadata={"help": "optimisation steps"})
    lr: float | None = field(default=None, metadata={"help": "learning rate (default: photo3d enhance's)"})
    n_crops: int | None = field(default=None, metadata={"help": "L_adapt crops per view (default: photo3d enhance's)"})
    views_per_step: int | None = field(default=None, metadata={
        "help": "reference views per step (0 = all 4; default: photo3d enhance's)"})
    encoders: EncoderPref = field(default="offline", metadata={
        "help": "offline (Inception stand-in, no weights needed), paper (CLIP + DINOv3 from local files) "
                "or tiny (random test doubles)"})
    device: str = field(default="auto", metadata={"help": "auto, cpu or cuda"})
    seed: int = field(default=0, metadata={"help": "seed of the editor drift and the optimisation"})

