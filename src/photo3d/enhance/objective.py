"""The per-step objective: L_real (or one of its terms), or a pixel loss for ablations.

``loss = "real"`` is Photo3D's ``lambda_a * L_adapt + lambda_m * L_match`` (spec §3.3);
``"adapt"`` / ``"match"`` keep one term (the paper's "w/o L_match" / "w/o L_adapt" rows);
``"l1"`` / ``"l2"`` compare pixels directly (the paper's "w/ L2 loss" row), which punishes any
misalignment between render and edited view and therefore blurs detail.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from photo3d.enhance.config import EnhanceConfig

Objective = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


def pixel_objective(kind: str) -> Objective:
    """``"l1"`` or ``"l2"`` over the full image (background included, where both are white).

    Returns:
        ``(pred [N,3,H,W], target [N,3,H,W]) -> {"loss": scalar}``.
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"pixel loss must be 'l1' or 'l2', got {kind!r}")
    fn = F.l1_loss if kind == "l1" else F.mse_loss

    def objective(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": fn(pred, target)}

    return objective


def real_objective(config: EnhanceConfig, adapt_encoder, match_encoder) -> tuple[Objective, dict]:
    """L_real (or one term of it) from :mod:`photo3d.losses` with the given encoders.

    Args:
        config: enhance settings (``loss``, weights, crops, match size).
        adapt_encoder, match_encoder: frozen encoders (see :mod:`photo3d.encoders`).

    Returns:
        ``(objective, loss_config_dict)``; the objective returns ``{"loss", "adapt", "match"}``.
    """
    from photo3d.losses import RealLoss, RealLossConfig

    lam_a = config.lambda_adapt if config.loss in ("real", "adapt") else 0.0
    lam_m = config.lambda_match if config.loss in ("real", "match") else 0.0
    if config.loss == "adapt":
        lam_a = lam_a or 1.0
    if config.loss == "match":
        lam_m = lam_m or 1.0
    cfg = RealLossConfig(lambda_adapt=lam_a, lambda_match=lam_m, n_crops=config.n_crops,
                         match_size=config.effective_match_size)
    loss = RealLoss.from_config(cfg, adapt_encoder, match_encoder)
    loss.to(_device_of(adapt_encoder))
    # crop windows from a seeded CPU generator: runs are reproducible for a given --seed
    gen = torch.Generator().manual_seed(config.seed)

    def objective(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        return dict(loss.components(pred, target, generator=gen))

    return objective, cfg.to_dict()


def build_objective(config: EnhanceConfig, encoders: tuple | None) -> tuple[Objective, dict]:
    """The objective for ``config.loss``; ``encoders`` = ``(adapt, match)`` for the feature losses."""
    if config.loss in ("l1", "l2"):
        return pixel_objective(config.loss), {"pixel_loss": config.loss}
    if encoders is None:
        raise ValueError(f"loss {config.loss!r} needs encoders")
    return real_objective(config, *encoders)


def _device_of(module) -> torch.device:
    try:
        return next(iter(module.parameters())).device
    except (StopIteration, AttributeError):
        return torch.device("cpu")
