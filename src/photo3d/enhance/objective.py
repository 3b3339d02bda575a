"""The per-step objective: the hybrid default, L_real (or one of its terms), or a pixel loss.

Objectives are called as ``objective(pred [n,3,H,W], target [n,C,H,W])``: the target is the
(tone-matched) reference, with a fourth channel holding the per-pixel registration confidence
when the references are registered (:func:`pack_targets`; re-registration updates it in place).

* ``"hybrid"`` (the default): a confidence-weighted L1 term on the **registered** references
  (:mod:`photo3d.enhance.registration`) takes colour, tone, layout and the detail the views
  resolve from every pixel whose alignment is trustworthy, plus ``real_weight * L_real`` for
  detail that survives the residual misalignment.
* ``"real"``: Photo3D's ``lambda_a * L_adapt + lambda_m * L_match`` (spec §3.3); ``"adapt"`` /
  ``"match"`` keep one term (the paper's "w/o L_match" / "w/o L_adapt" rows).
* ``"l1"`` / ``"l2"``: pixel losses (the paper's "w/ L2 loss" row). Without registration they
  compare the full images, which punishes any misalignment and blurs detail; with registration
  (``--registration on``) they are the confidence-weighted term alone.
"""

from __future__ import annotations

from typing import Callable

import torch

from photo3d.enhance.config import EnhanceConfig
from photo3d.enhance.timing import StepTimer, TimedEncoder

Objective = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


def pack_targets(images: torch.Tensor, confidence: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, 3, H, W]`` references (+ ``[N, 1, H, W]`` confidence) -> the loop's target tensor."""
    return images if confidence is None else torch.cat([images, confidence.to(images)], dim=1)


def pixel_term(pred: torch.Tensor, target: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """L1 / L2 between renders and references.

    A 3-channel target is compared over the full images, background included (where both are
    white). A 4-channel target (:func:`pack_targets`) weights every pixel by its registration
    confidence ``c``: ``sum(c |pred - ref|) / sum(c)`` over pixels and channels.

    Args:
        pred: ``[n, 3, H, W]`` renders.
        target: ``[n, 3 | 4, H, W]`` references (+ confidence).
        kind: ``"l1"`` or ``"l2"``.

    Returns:
        Scalar.
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"pixel loss must be 'l1' or 'l2', got {kind!r}")
    diff = pred - target[:, :3]
    err = diff.abs() if kind == "l1" else diff.square()
    if target.shape[1] == 3:
        return err.mean()
    c = target[:, 3:4]
    return (err * c).sum() / (3.0 * c.sum()).clamp_min(1e-6)


def _feature_loss(config: EnhanceConfig, encoders, timer: StepTimer | None, lam_a: float, lam_m: float):
    """``(RealLoss, config dict)`` for the given term weights; encoders booked in ``timer``."""
    from photo3d.losses import RealLoss, RealLossConfig

    adapt_enc, match_enc = encoders
    if timer is not None:
        adapt_enc = TimedEncoder(adapt_enc, timer)
        match_enc = adapt_enc if encoders[1] is encoders[0] else TimedEncoder(match_enc, timer)
    cfg = RealLossConfig(lambda_adapt=lam_a, lambda_match=lam_m, n_crops=config.n_crops,
                         crop_scale_min=config.crop_scale_min, crop_scale_max=config.crop_scale_max,
                         adapt_size=config.adapt_size, match_size=config.match_size or 2 * config.resolution)
    loss = RealLoss.from_config(cfg, adapt_enc, match_enc)
    return loss, cfg.to_dict()


def _terms(config: EnhanceConfig) -> tuple[float, float]:
    """L_adapt and L_match weights of ``config.loss``."""
    lam_a = config.lambda_adapt if config.loss in ("real", "adapt", "hybrid") else 0.0
    lam_m = config.lambda_match if config.loss in ("real", "match", "hybrid") else 0.0
    if config.loss == "adapt":
        lam_a = lam_a or 1.0
    if config.loss == "match":
        lam_m = lam_m or 1.0
    return lam_a, lam_m


def build_objective(config: EnhanceConfig, encoders: tuple | None, timer: StepTimer | None = None,
                    registered: bool = False) -> tuple[Objective, dict]:
    """The objective for ``config.loss`` (see module docs).

    Args:
        config: enhance settings (``loss``, weights, crops, match size, ``seed``).
        encoders: ``(adapt, match)`` frozen encoders for the feature losses (``None`` for pixel
            losses).
        timer: books encoder, matching and pixel-term time (optional).
        registered: whether the targets carry a confidence channel (recorded only).

    Returns:
        ``(objective, loss_config_dict)``; the objective returns ``{"loss", ...components}``.
    """
    timer = timer or StepTimer()
    if config.loss in ("l1", "l2"):
        def pixel_only(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
            with timer.section("pixel"):
                return {"loss": pixel_term(pred, target, config.loss)}

        return pixel_only, {"pixel_loss": config.loss, "confidence_weighted": registered}
    hybrid = config.loss == "hybrid"
    if hybrid and config.real_weight == 0:
        def registered_pixels(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
            with timer.section("pixel"):
                pix = pixel_term(pred, target, "l1")
            return {"loss": config.pixel_weight * pix, "pixel": pix}

        return registered_pixels, {"pixel_loss": "l1", "pixel_weight": config.pixel_weight, "real_weight": 0.0}
    if encoders is None:
        raise ValueError(f"loss {config.loss!r} needs encoders")
    loss, cfg = _feature_loss(config, encoders, timer, *_terms(config))
    # crop windows from a seeded CPU generator: runs are reproducible for a given --seed
    gen = torch.Generator().manual_seed(config.seed)
    every = max(1, config.real_every or 1) if hybrid else 1
    calls = [0]

    def objective(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        parts: dict[str, torch.Tensor] = {}
        if hybrid:
            with timer.section("pixel"):
                parts["pixel"] = pixel_term(pred, target, "l1")
            calls[0] += 1
            if (calls[0] - 1) % every:  # L_real only on every `every`-th step (CPU budget)
                parts["loss"] = config.pixel_weight * parts["pixel"]
                return parts
        enc0, t0 = timer.totals["encoder_fwd"], timer.now()
        feats = loss.components(pred, target[:, :3], generator=gen)
        timer.add("matching", timer.now() - t0 - (timer.totals["encoder_fwd"] - enc0))
        parts.update(adapt=feats["adapt"], match=feats["match"])
        if hybrid:
            parts["loss"] = config.pixel_weight * parts["pixel"] + config.real_weight * feats["loss"]
            if config.real_balance:
                parts["balanced"] = (config.pixel_weight * parts["pixel"], feats["loss"], config.real_weight)
        else:
            parts["loss"] = feats["loss"]
        return parts

    if hybrid:
        cfg = {**cfg, "pixel_weight": config.pixel_weight, "real_weight": config.real_weight, "pixel_loss": "l1",
               "real_every": every}
    return objective, cfg
