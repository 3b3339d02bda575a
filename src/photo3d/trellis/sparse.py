"""A minimal sparse voxel tensor: batch-first integer coordinates plus per-voxel features.

``coords [N, 4]`` int32 rows ``(batch, x, y, z)``; ``feats [N, ...]`` one row per voxel. The rows
of one batch element are contiguous and batches appear in ascending order (as TRELLIS requires),
so per-sample work is a slice. Geometry-derived data (convolution neighbour maps, attention
window partitions, down/up-sampling maps) is kept in :attr:`SparseTensor.cache`, a dict shared by
every tensor made with :meth:`SparseTensor.replace`, so it is computed once per voxel set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor


@dataclass
class SparseTensor:
    """N active voxels of a batch of ``batch_size`` sparse grids.

    Attributes:
        coords: ``[N, 4]`` int32 ``(batch, x, y, z)``, grouped by batch in ascending order.
        feats: ``[N, ...]`` features (any trailing shape).
        batch_size: number of grids (some may be empty).
        cache: geometry-derived data shared by tensors over the same coordinates.
    """

    coords: Tensor
    feats: Tensor
    batch_size: int = -1
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.coords.ndim != 2 or self.coords.shape[1] != 4:
            raise ValueError(f"SparseTensor.coords must be [N, 4] (batch, x, y, z), got {tuple(self.coords.shape)}")
        if self.feats.shape[0] != self.coords.shape[0]:
            raise ValueError(f"SparseTensor has {self.coords.shape[0]} coords but {self.feats.shape[0]} feature rows")
        if self.coords.dtype != torch.int32:
            self.coords = self.coords.to(torch.int32)
        if self.batch_size < 0:
            self.batch_size = int(self.coords[:, 0].max()) + 1 if len(self.coords) else 1

    @classmethod
    def from_batches(cls, coords: list[Tensor], feats: list[Tensor]) -> SparseTensor:
        """Stack per-sample ``coords [N_b, 3]`` and ``feats [N_b, ...]`` into one batch."""
        rows = [torch.cat([torch.full((len(c), 1), b, dtype=torch.int32, device=c.device), c.to(torch.int32)], 1)
                for b, c in enumerate(coords)]
        return cls(torch.cat(rows), torch.cat(feats), batch_size=len(coords))

    def replace(self, feats: Tensor) -> SparseTensor:
        """Same voxels (and shared cache), new features."""
        return SparseTensor(self.coords, feats, self.batch_size, self.cache)

    @property
    def device(self) -> torch.device:
        return self.feats.device

    @property
    def dtype(self) -> torch.dtype:
        return self.feats.dtype

    @property
    def batch_index(self) -> Tensor:
        """``[N]`` int64 batch element of every voxel (cached)."""
        if "batch_index" not in self.cache:
            self.cache["batch_index"] = self.coords[:, 0].long()
        return self.cache["batch_index"]

    @property
    def seq_lens(self) -> list[int]:
        """Voxels per batch element (cached)."""
        if "seq_lens" not in self.cache:
            counts = torch.bincount(self.batch_index, minlength=self.batch_size)
            self.cache["seq_lens"] = counts.tolist()
        return self.cache["seq_lens"]

    def per_batch(self, values: Tensor) -> Tensor:
        """Broadcast ``[B, ...]`` per-sample values to ``[N, ...]`` per-voxel rows."""
        return values[self.batch_index]

    def spatial(self) -> Tensor:
        """``[N, 3]`` int64 spatial coordinates."""
        return self.coords[:, 1:].long()
