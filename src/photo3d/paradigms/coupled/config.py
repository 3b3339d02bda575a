"""Options of the coupled (TRELLIS-style) paradigm (torch-free, for the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from photo3d.config import TypedConfig
from photo3d.errors import ConfigError


@dataclass
class CoupledConfig(TypedConfig):
    """Photo3D §4(a): noise the latent, estimate x0 in one step, decode, render, L_real."""

    x0: Literal["paper", "released"] = field(default="paper", metadata={"help": "x0 estimate: paper x_t - t*v, or released code eps - v"})
    timesteps: Literal["logit_normal", "uniform"] = field(default="logit_normal", metadata={"help": "t distribution (released: logit-normal(1, 1))"})
    t_mean: float = field(default=1.0, metadata={"help": "logit-normal mean (released 1.0)"})
    t_std: float = field(default=1.0, metadata={"help": "logit-normal std (released 1.0)"})
    t_min: float = field(default=0.0, metadata={"help": "clip sampled t to [t_min, t_max] (the paper does not restrict t)"})
    t_max: float = field(default=1.0, metadata={"help": "upper clip of t"})
    sigma_min: float = field(default=1e-5, metadata={"help": "x_t = (1-t) x0 + (sigma_min + (1-sigma_min) t) eps (TRELLIS 1e-5)"})
    cfg_dropout: float = field(default=0.1, metadata={"help": "probability of a zeroed condition (TRELLIS 0.1)"})
    train_decoder: bool = field(default=False, metadata={"help": "train the Gaussian decoder jointly (paper: yes; released config: no)"})
    generator: Literal["reference", "trellis"] = field(default="reference", metadata={"help": "reference (small built-in flow model) or trellis (TRELLIS-image-large's SLAT flow + GS decoder, plain PyTorch)"})
    voxel_resolution: int = field(default=16, metadata={"help": "reference generator: voxel grid r (r^3 cells)"})
    width: int = field(default=64, metadata={"help": "reference generator: transformer width"})
    depth: int = field(default=2, metadata={"help": "reference generator: transformer blocks"})
    gaussians_per_voxel: int = field(default=4, metadata={"help": "reference decoder: Gaussians per voxel (TRELLIS 32)"})
    trellis_path: str = field(default="", metadata={"help": "trellis: local TRELLIS-image-large folder, or 'tiny' (random stand-in weights)"})
    trellis_checkpoint: str = field(default="", metadata={"help": "trellis: start from Photo3D's fine-tuned stage 2 ('photo3d' or its folder)"})
    trellis_latent_steps: int = field(default=12, metadata={"help": "trellis: SLAT sampler steps for samples without {id}/slat.npz"})
    grad_checkpointing: bool = field(default=False, metadata={"help": "trellis: recompute transformer blocks in the backward (less memory)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.t_min < self.t_max <= 1.0:
            raise ConfigError(f"coupled: need 0 <= t_min < t_max <= 1, got ({self.t_min}, {self.t_max}); change --t-min/--t-max")
        if not 0.0 <= self.cfg_dropout < 1.0:
            raise ConfigError(f"coupled: cfg_dropout must be in [0, 1), got {self.cfg_dropout}; change --cfg-dropout")

