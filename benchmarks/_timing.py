"""Shared by the benchmark scripts: device synchronisation and peak memory."""

from __future__ import annotations

import resource

import torch


def sync(device: str) -> None:
    """Wait for queued CUDA work so wall-clock times include it (no-op on CPU)."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def peak_gb(device: str) -> float:
    """Peak memory in GiB: ``max_memory_allocated`` on CUDA, the process's max RSS on CPU."""
    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
