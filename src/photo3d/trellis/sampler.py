"""TRELLIS's flow sampler: Euler steps from t = 1 (noise) to t = 0 with interval guidance.

* Times: ``t_i = linspace(1, 0, steps + 1)`` warped by ``rescale_t`` as
  ``r t / (1 + (r - 1) t)`` (r > 1 spends more steps near t = 1).
* Step: ``x <- x - (t_i - t_{i+1}) v(x, t_i)``; the network sees ``1000 t``.
* Guidance: ``v = (1 + s) v(x, t, c) - s v(x, t, 0)`` when ``lo <= t <= hi``, else ``v(x, t, c)``
  (``FlowEulerGuidanceIntervalSampler``; the unconditional input is the all-zero condition).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import Tensor
from tqdm import tqdm


@dataclass
class SamplerParams:
    """One stage's sampler settings (the ``params`` of a ``pipeline.json`` sampler)."""

    steps: int = 25
    cfg_strength: float = 3.0
    cfg_interval: tuple[float, float] = (0.0, 1.0)
    rescale_t: float = 1.0

    @classmethod
    def from_dict(cls, params: dict) -> SamplerParams:
        known = {k: params[k] for k in ("steps", "cfg_strength", "cfg_interval", "rescale_t") if k in params}
        if "cfg_interval" in known:
            known["cfg_interval"] = tuple(float(v) for v in known["cfg_interval"])
        return cls(**known)

    def to_dict(self) -> dict:
        return {**asdict(self), "cfg_interval": list(self.cfg_interval)}


def time_steps(steps: int, rescale_t: float = 1.0) -> list[float]:
    """The ``steps + 1`` times from 1 to 0 (see the module docstring)."""
    if steps < 1:
        raise ValueError(f"the flow sampler needs at least one step, got {steps}")
    t = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    return (rescale_t * t / (1 + (rescale_t - 1) * t)).tolist()


def guided(v_cond: Tensor, v_uncond: Tensor, strength: float) -> Tensor:
    """TRELLIS's classifier-free guidance ``(1 + s) v_c - s v_u``."""
    return (1 + strength) * v_cond - strength * v_uncond


def guided_velocity(model: Callable[[Tensor, Tensor, Tensor], Tensor], cond: Tensor, neg_cond: Tensor,
                    strength: float, interval: Sequence[float] = (0.0, 1.0)) -> Callable[[Tensor, float], Tensor]:
    """``v(x, t)`` with interval guidance around ``model(x, 1000 t [B], cond)``."""
    lo, hi = interval

    def velocity(x: Tensor, t: float) -> Tensor:
        t_in = torch.full((cond.shape[0],), 1000.0 * t, dtype=torch.float32, device=cond.device)
        v = model(x, t_in, cond)
        if strength == 0 or not lo <= t <= hi:
            return v
        return guided(v, model(x, t_in, neg_cond), strength)

    return velocity


def sample_flow(velocity: Callable[[Tensor, float], Tensor], noise: Tensor, steps: int, rescale_t: float = 1.0,
                desc: str | None = None) -> Tensor:
    """Integrate ``dx/dt = velocity(x, t)`` from ``noise`` at t = 1 to t = 0 (tqdm bar when ``desc``)."""
    ts = time_steps(steps, rescale_t)
    x = noise
    for t, t_next in tqdm(list(zip(ts[:-1], ts[1:])), desc=desc, disable=desc is None, leave=False):
        x = x - (t - t_next) * velocity(x, t)
    return x
