"""Rectified-flow pieces of the coupled objective (TRELLIS's conventions), as pure functions.

TRELLIS diffuses ``x_t = (1 - t) x0 + (sigma_min + (1 - sigma_min) t) eps`` and its network
predicts the velocity ``v ~ (1 - sigma_min) eps - x0``. Photo3D estimates ``x0`` from one
prediction in two ways (spec §7.3):

* paper:    ``x0_hat = x_t - t * v``
* released: ``x0_hat = eps - v``  (not scaled by t; differs unless v is exact)
"""

from __future__ import annotations

import torch

from photo3d.paradigms.coupled.config import CoupledConfig
from photo3d.trellis.sampler import sample_flow


def sample_t(cfg: CoupledConfig, generator: torch.Generator) -> float:
    """One timestep in [cfg.t_min, cfg.t_max]: ``sigmoid(N(t_mean, t_std))`` or uniform."""
    if cfg.timesteps == "logit_normal":
        t = torch.sigmoid(cfg.t_mean + cfg.t_std * torch.randn((), generator=generator))
    elif cfg.timesteps == "uniform":
        t = torch.rand((), generator=generator)
    else:
        raise ValueError(f"unknown timestep distribution {cfg.timesteps!r}; use logit_normal or uniform")
    return min(max(float(t), cfg.t_min), cfg.t_max)


def diffuse(x0: torch.Tensor, eps: torch.Tensor, t: float, sigma_min: float = 1e-5) -> torch.Tensor:
    """``x_t = (1 - t) x0 + (sigma_min + (1 - sigma_min) t) eps`` (any shape)."""
    return (1.0 - t) * x0 + (sigma_min + (1.0 - sigma_min) * t) * eps


def estimate_x0(x_t: torch.Tensor, eps: torch.Tensor, v: torch.Tensor, t: float, mode: str) -> torch.Tensor:
    """One-step clean-latent estimate: ``"paper"`` ``x_t - t v`` or ``"released"`` ``eps - v``."""
    if mode == "paper":
        return x_t - t * v
    if mode == "released":
        return eps - v
    raise ValueError(f"unknown x0 estimate {mode!r}; use paper or released")


def euler_sample(velocity, shape: tuple[int, ...], steps: int, generator: torch.Generator,
                 device: torch.device, sigma_min: float = 1e-5) -> torch.Tensor:
    """Integrate ``dx/dt = v`` from pure noise at t = 1 to t = 0 in ``steps`` uniform Euler steps.

    (:func:`photo3d.trellis.sampler.sample_flow` without time rescaling.)

    Args:
        velocity: ``fn(x_t, t) -> v`` (guidance already applied).
        shape: latent shape.
        steps: number of steps.
        generator: CPU generator for the initial noise.
        device: where to run.
    """
    return sample_flow(velocity, torch.randn(shape, generator=generator).to(device), steps)
