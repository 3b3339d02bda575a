"""The noise schedule: SDXL's DDPM betas with a shifted signal-to-noise ratio, and x0 estimates.

Step1X-3D (``ShiftSNRScheduler``) trains and samples its multi-view model with SNR(t) divided by
a scale (8): at high resolution, and with six views of one object sharing information, the base
schedule leaves too much signal at large t. The "interpolated" variant shifts progressively,
``log SNR'(t) = (1 - w) log SNR(t) + w log(SNR(t) / scale)`` with ``w = t / (T - 1)``, so small
t keep SDXL's schedule and t = T - 1 gets the full shift. The new ``alphas_cumprod`` are
``SNR' / (1 + SNR')`` and the betas ``1 - ᾱ_t / ᾱ_{t-1}``; a diffusers scheduler is rebuilt from
them (``trained_betas``) so that ``add_noise``, ``step`` and ``alphas_cumprod`` all agree.
"""

from __future__ import annotations

import torch

from photo3d._optional import require

# SDXL base's scheduler (scheduler/scheduler_config.json): scaled-linear betas, 1000 steps,
# epsilon prediction, "leading" spacing with offset 1. Used for the tiny model and as a fallback.
SDXL_SCHEDULE = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
                 "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "steps_offset": 1,
                 "timestep_spacing": "leading", "clip_sample": False, "set_alpha_to_one": False}


def shifted_alphas_cumprod(alphas_cumprod: torch.Tensor, scale: float, mode: str = "interpolated") -> torch.Tensor:
    """``ᾱ`` of the SNR-shifted schedule.

    Args:
        alphas_cumprod: ``[T]`` base ``ᾱ_t``.
        scale: SNR divisor (1 = unchanged).
        mode: ``"interpolated"`` (log-linear in t from no shift to the full shift) or
            ``"default"`` (the full shift at every t).

    Returns:
        ``[T]`` float64 ``ᾱ'_t``.
    """
    a = alphas_cumprod.double()
    snr = a / (1 - a)
    if mode == "default":
        shifted = snr / scale
    elif mode == "interpolated":
        w = torch.arange(len(a), dtype=torch.float64) / (len(a) - 1)
        shifted = torch.exp(torch.log(snr) * (1 - w) + torch.log(snr / scale) * w)
    else:
        raise ValueError(f"shift mode must be 'interpolated' or 'default', got {mode!r}")
    return shifted / (1 + shifted)


def betas_from_alphas_cumprod(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """``β_t = 1 - ᾱ_t / ᾱ_{t-1}`` (with ``ᾱ_{-1} = 1``)."""
    prev = torch.cat([torch.ones(1, dtype=alphas_cumprod.dtype), alphas_cumprod[:-1]])
    return 1 - alphas_cumprod / prev


def shifted_ddpm(config: dict | None = None, scale: float = 8.0, mode: str = "interpolated"):
    """A diffusers ``DDPMScheduler`` on the SNR-shifted betas of ``config``'s schedule.

    Args:
        config: a scheduler config (e.g. SDXL's ``scheduler_config.json``); default
            :data:`SDXL_SCHEDULE`. Its class is ignored: training and sampling are DDPM, as
            upstream.
        scale, mode: see :func:`shifted_alphas_cumprod`; ``scale=1`` keeps the base betas.
    """
    diffusers = require("diffusers", "the multi-view diffusion model")
    cfg = {k: v for k, v in dict(config or SDXL_SCHEDULE).items() if not k.startswith("_")}
    cfg.pop("trained_betas", None)
    base = diffusers.DDPMScheduler.from_config(cfg)
    if scale == 1.0:
        return base
    betas = betas_from_alphas_cumprod(shifted_alphas_cumprod(base.alphas_cumprod, scale, mode))
    return diffusers.DDPMScheduler.from_config(cfg, trained_betas=betas.float().numpy())


def _at(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values.to(like.device)[t.to(like.device)].to(torch.float32).view(-1, *([1] * (like.ndim - 1)))


def estimate_x0(scheduler, x_t: torch.Tensor, prediction: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """One-step clean estimate from the model output, with the scheduler's own ``ᾱ``.

    ε: ``x̂0 = (x_t - √(1-ᾱ) ε̂) / √ᾱ``; v: ``x̂0 = √ᾱ x_t - √(1-ᾱ) v̂``; sample: ``x̂0 = output``
    (``prediction_type`` of the scheduler's config).

    Args:
        scheduler: a diffusers scheduler with ``alphas_cumprod``.
        x_t: ``[B, C, h, w]`` noisy latents; prediction: same shape.
        t: ``[B]`` int64 training timesteps.
    """
    a = _at(scheduler.alphas_cumprod, t, x_t)
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        return (x_t - (1 - a).sqrt() * prediction) / a.sqrt()
    if kind == "v_prediction":
        return a.sqrt() * x_t - (1 - a).sqrt() * prediction
    if kind == "sample":
        return prediction
    raise ValueError(f"unsupported prediction_type {kind!r}")


def sample_timesteps(scheduler, n: int, t_min: float, t_max: float, generator: torch.Generator) -> torch.Tensor:
    """``n`` integer timesteps uniform in ``[t_min, t_max] * (T - 1)`` (CPU generator).

    Args:
        scheduler: supplies ``T`` (``num_train_timesteps``).
        n: how many (one per object: all its views share it).
        t_min, t_max: fractions of the schedule.
        generator: CPU ``torch.Generator``.
    """
    top = scheduler.config.num_train_timesteps - 1
    lo, hi = int(round(t_min * top)), int(round(t_max * top))
    return torch.randint(lo, hi + 1, (n,), generator=generator)
