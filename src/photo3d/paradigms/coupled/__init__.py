"""The coupled (geometry-texture, diffusion-based) paradigm: Photo3D's TRELLIS fine-tuning.

Build one with :func:`build_coupled`; the loop in :mod:`photo3d.train.loop` runs it. Heavy
modules are imported on first use (the CLI only needs :mod:`.config`).
"""

from __future__ import annotations

from typing import Any

from photo3d.paradigms.coupled.config import CoupledConfig


def build_coupled(cfg: CoupledConfig, device="cpu", **render_kwargs):
    """The coupled strategy with the generator ``cfg.generator`` names ("reference" or "trellis").

    Args:
        cfg: paradigm options.
        device: where the networks live.
        **render_kwargs: options for :func:`photo3d.gaussians.render.render_gaussians`.

    Returns:
        A :class:`~photo3d.paradigms.coupled.strategy.CoupledStrategy`.
    """
    from photo3d.paradigms.coupled.strategy import CoupledStrategy, ReferenceGenerator

    if cfg.generator == "trellis":
        from photo3d.paradigms.coupled.trellis_adapter import TrellisGenerator
        from photo3d.trellis.gs_decoder import RENDER_OPTIONS

        model = TrellisGenerator.from_settings(cfg.trellis_path, device, cfg.trellis_checkpoint,
                                               cfg.trellis_latent_steps, cfg.grad_checkpointing)
        render_kwargs = {**RENDER_OPTIONS, **render_kwargs}  # TRELLIS's 2D filter
    else:
        model = ReferenceGenerator(cfg, device)
    return CoupledStrategy(model, cfg, render_kwargs)


def __getattr__(name: str) -> Any:
    if name in ("CoupledStrategy", "ReferenceGenerator"):
        from photo3d.paradigms.coupled import strategy

        return getattr(strategy, name)
    raise AttributeError(f"module 'photo3d.paradigms.coupled' has no attribute {name!r}")


__all__ = ["CoupledConfig", "CoupledStrategy", "ReferenceGenerator", "build_coupled"]
