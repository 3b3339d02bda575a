"""Options of the coupled (TRELLIS-style) paradigm (torch-free, for the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from photo3d.config import TypedConfig, option


@dataclass
class CoupledConfig(TypedConfig):
    """Photo3D §4(a): noise the latent, estimate x0 in one step, decode, render, L_real."""

    x0: Literal["paper", "released"] = option("paper",
        "x0 estimate: paper x_t - t*v, or released code eps - v")
    timesteps: Literal["logit_normal", "uniform"] = option("logit_normal",
        "t distribution (released: logit-normal(1, 1))")
    t_mean: float = option(1.0, "logit-normal mean (released 1.0)")
    t_std: float = option(1.0, "logit-normal std (released 1.0)")
    t_min: float = option(0.0, "clip sampled t to [t_min, t_max] (the paper does not restrict t)")
    t_max: float = option(1.0, "upper clip of t")
    sigma_min: float = option(1e-5, "x_t = (1-t) x0 + (sigma_min + (1-sigma_min) t) eps (TRELLIS 1e-5)")
    cfg_dropout: float = option(0.1, "probability of a zeroed condition (TRELLIS 0.1)")
    train_decoder: bool = option(False,
        "train the Gaussian decoder jointly (paper: yes; released config: no)")
    generator: Literal["reference", "trellis"] = option("reference",
        "reference (small built-in flow model) or trellis (external package, needs weights)")
    voxel_resolution: int = option(16, "reference generator: voxel grid r (r^3 cells)")
    width: int = option(64, "reference generator: transformer width")
    depth: int = option(2, "reference generator: transformer blocks")
    gaussians_per_voxel: int = option(4, "reference decoder: Gaussians per voxel (TRELLIS 32)")
    trellis_path: str = option("JeffreyXiang/TRELLIS-image-large", "trellis: pipeline id or local folder")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.t_min < self.t_max <= 1.0:
            raise ValueError(f"need 0 <= t_min < t_max <= 1, got ({self.t_min}, {self.t_max})")
        if not 0.0 <= self.cfg_dropout < 1.0:
            raise ValueError(f"cfg_dropout must be in [0, 1), got {self.cfg_dropout}")

