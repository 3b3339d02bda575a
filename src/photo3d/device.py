"""Where computation runs: one policy for every command and library entry point.

Every ``device`` option in photo3d (``photo3d enhance/render/train --device``, the builder's model
stages, the encoders) is resolved here:

* ``"auto"`` (the default everywhere): CUDA when available (``cuda:LOCAL_RANK`` under
  ``torchrun``), else the CPU;
* ``"cpu"``, ``"cuda"``, ``"cuda:N"``: as given, checked: asking for CUDA where there is none is
  one clear error rather than a failure deep inside a run.
"""

from __future__ import annotations

import os

import torch

from photo3d.errors import InputError


def cuda_available() -> bool:
    """True when a CUDA device can be used."""
    return torch.cuda.is_available()


def resolve_device(name: str | torch.device = "auto", local_rank: int | None = None) -> torch.device:
    """The concrete device ``name`` stands for.

    Args:
        name: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device``.
        local_rank: the process's GPU under ``"auto"`` (default ``$LOCAL_RANK``, set by
            ``torchrun``, else 0).

    Returns:
        A ``torch.device``.

    Raises:
        InputError: not a device name, or CUDA requested but not available.
    """
    if isinstance(name, torch.device):
        name = str(name)
    if name == "auto":
        if not cuda_available():
            return torch.device("cpu")
        rank = int(os.environ.get("LOCAL_RANK", "0")) if local_rank is None else local_rank
        return torch.device(f"cuda:{rank}")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise InputError(f"device {name!r} is not a torch device; use auto, cpu, cuda or cuda:N") from exc
    if dev.type == "cuda" and not cuda_available():
        raise InputError(f"device {name!r} was requested but CUDA is not available; use --device cpu (or auto)")
    return dev
