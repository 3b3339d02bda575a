"""Small pieces of run state: EMA weights, RNG snapshots, data order, JSONL logging."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from photo3d.device import cuda_available
from photo3d.io import append_jsonl, read_jsonl, write_jsonl


class EMA:
    """Exponential moving average of parameters: ``ema = d * ema + (1 - d) * p`` after each step.

    Args:
        params: named parameters to track (``{name: tensor}``).
        decay: ``d`` (TRELLIS: 0.9999).
    """

    def __init__(self, params: dict[str, torch.Tensor], decay: float) -> None:
        self.decay = float(decay)
        self.shadow = {k: v.detach().clone().float() for k, v in params.items()}

    @torch.no_grad()
    def update(self, params: dict[str, torch.Tensor]) -> None:
        for k, v in params.items():
            self.shadow[k].mul_(self.decay).add_(v.detach().float(), alpha=1.0 - self.decay)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "shadow": self.shadow}

    def load_state_dict(self, state: dict) -> None:
        self.decay = state["decay"]
        for k, v in state["shadow"].items():
            self.shadow[k].copy_(v)


def rng_state() -> dict:
    """Snapshot of the global torch / CUDA / numpy / python RNGs."""
    out = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if cuda_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict) -> None:
    """Restore a :func:`rng_state` snapshot."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and cuda_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def sample_indices(n: int, micro_step: int, batch_size: int, rank: int, world: int, seed: int) -> list[int]:
    """Dataset indices of one micro-batch, a pure function of the step (so resume is exact).

    The global sequence is an endless run of epochs, each a seeded permutation of ``range(n)``;
    micro-step ``m`` of rank ``r`` takes positions ``(m * world + r) * batch_size + i`` of it,
    so ranks never share a sample within a step (DistributedSampler-like sharding).
    """
    out = []
    for i in range(batch_size):
        pos = (micro_step * world + rank) * batch_size + i
        epoch, j = divmod(pos, n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100003 + epoch))
        out.append(int(perm[j]))
    return out


class JsonlLogger:
    """Append one JSON object per line (flushed), optionally mirrored to TensorBoard."""

    def __init__(self, path: Path, tensorboard_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(tensorboard_dir))
            except Exception:  # noqa: BLE001 - TensorBoard is optional
                self._tb = None

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (a resumed run re-logs them), atomically."""
        if self.path.is_file():
            write_jsonl(self.path, [r for r in read_jsonl(self.path) if r.get("step", 0) <= step])

    def log(self, record: dict) -> None:
        append_jsonl(self.path, [record])
        if self._tb is not None and "step" in record:
            for k, v in record.items():
                if isinstance(v, (int, float)) and k != "step":
                    self._tb.add_scalar(k, v, record["step"])

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_log(path: Path) -> list[dict]:
    """All records of a ``log.jsonl``."""
    return read_jsonl(path, missing_ok=False)
