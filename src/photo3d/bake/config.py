"""Settings of ``photo3d bake`` (no torch import here: the CLI builds its options from them)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from photo3d.errors import InputError


@dataclass
class BakeConfig:
    """How views are back-projected onto a mesh's UV atlas."""

    texture_size: int = field(default=1024, metadata={"help": "baked texture size in texels"})
    uv: Literal["atlas", "keep"] = field(default="keep", metadata={
        "help": "keep: the mesh's own UVs (one material; the GLB keeps its other maps); atlas: a fresh xatlas "
                "atlas (meshes without UVs always get one)"})
    view_weights: tuple[float, ...] = field(default=(), metadata={
        "metavar": "W", "help": "per-view weights, one per camera; empty: the cameras file's \"view_weights\", "
                               "else all 1"})
    exponent: float = field(default=4.0, metadata={"help": "view-angle weight |n.v|^exponent"})
    max_angle: float = field(default=75.0, metadata={
        "help": "degrees: texels seen more obliquely get nothing from that view"})
    edge_margin: int = field(default=-1, metadata={
        "help": "pixels ignored along silhouettes and depth edges (-1: 2 per 512 px of view)"})
    backend: str = field(default="auto", metadata={"help": "visibility backend: auto, torch, gl or nvdiffrast"})

    def __post_init__(self) -> None:
        if self.texture_size < 8:
            raise InputError(f"texture-size must be >= 8, got {self.texture_size}")
        if not 0.0 < self.max_angle <= 90.0:
            raise InputError(f"max-angle must be in (0, 90] degrees, got {self.max_angle}")
        if self.exponent < 0:
            raise InputError(f"exponent must be >= 0, got {self.exponent}")

    @property
    def min_cos(self) -> float:
        return math.cos(math.radians(self.max_angle))

    def to_dict(self) -> dict:
        return asdict(self)
