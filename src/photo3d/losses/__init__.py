"""Realistic-detail losses of Photo3D: L_adapt (§3.1), L_match (§3.2), L_real (§3.3).

Pure functions over tensors with ``nn.Module`` twins; frozen encoders are passed in (see
:mod:`photo3d.encoders`). Loaded lazily, so ``photo3d.losses.config`` stays torch-free.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "RealLoss": "photo3d.losses.real",
    "real_loss": "photo3d.losses.real",
    "AdaptLoss": "photo3d.losses.adapt",
    "adapt_loss": "photo3d.losses.adapt",
    "adapt_loss_from_embeddings": "photo3d.losses.adapt",
    "MatchLoss": "photo3d.losses.match",
    "match_loss": "photo3d.losses.match",
    "match_loss_from_tokens": "photo3d.losses.match",
    "foreground_mask": "photo3d.imaging.masks",
    "greedy_assignment": "photo3d.losses.matching",
    "nn_assignment": "photo3d.losses.matching",
    "sample_crop_boxes": "photo3d.losses.crops",
    "crop_resize": "photo3d.losses.crops",
    "RealLossConfig": "photo3d.losses.config",
    "PRESETS": "photo3d.losses.config",
    "set_value_checks": "photo3d.losses.checks",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
