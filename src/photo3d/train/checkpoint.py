"""Atomic checkpoints holding everything an exact resume needs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from photo3d.errors import InputError
from photo3d.io import atomic_path


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """``torch.save(state)`` through a temp file + rename; also refreshes ``latest.pt`` beside it.

    ``state`` holds: ``step``, ``modules`` (state dicts), ``ema``, ``optimizer``, ``scheduler``,
    ``rng`` (torch/numpy/python/CUDA), ``generators`` (explicit torch generators' states),
    ``data`` (micro-step and seed of the data order) and ``config``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    latest = path.parent / "latest.pt"
    with atomic_path(latest) as tmp:
        shutil.copyfile(path, tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (on CPU)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint; pass --resume PATH or --resume auto with an existing run")
    return torch.load(path, map_location="cpu", weights_only=False)
