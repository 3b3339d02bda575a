"""Options of the realistic-detail loss L_real (torch-free, so the CLI can build options from it).

Defaults follow the paper where it gives a value and the released TRELLIS trainer otherwise:

| option | default | paper [N] | TRELLIS code | TexGaussian code / script |
|---|---|---|---|---|
| lambda_adapt, lambda_match | 1, 1 | 1, 1 | 1, 1 | 1, 1 / 0.5, 1 |
| n_crops (per view) | 6 | not given | 6 | 8 |
| crop_scale | (0.4, 1.0) | not given | (0.4, 1.0) | (0.4, 1.0) / (0.3, 0.8) |
| min_crop | 32 | - | 32 | 32 |
| adapt_size | encoder native (224 CLIP) | - | 224 | 224 |
| match_size | 1024 per view | m = 1024 | 224 on the 2x2 grid | 672 per view |
| match_rule | "nn" | nearest neighbour | greedy 1:1 | greedy 1:1 |
| mask_background | True | not given | False | True |

To reproduce the TRELLIS code's L_match, compose the 2x2 grid, pass it as one view and use
``match_size=224, match_rule="greedy", mask_background=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from photo3d.config import TypedConfig


@dataclass
class RealLossConfig(TypedConfig):
    """L_real = lambda_adapt * L_adapt + lambda_match * L_match (Photo3D §3.3)."""

    lambda_adapt: float = field(default=1.0, metadata={"help": "weight of L_adapt (paper 1)"})
    lambda_match: float = field(default=1.0, metadata={"help": "weight of L_match (paper 1)"})
    n_crops: int = field(default=6, metadata={"help": "random crops per view for L_adapt (TRELLIS code 6, TexGaussian 8)"})
    crop_scale_min: float = field(default=0.4, metadata={"help": "smallest crop side as a fraction of the view (TexGaussian script 0.3)"})
    crop_scale_max: float = field(default=1.0, metadata={"help": "largest crop side as a fraction of the view (TexGaussian script 0.8)"})
    min_crop: int = field(default=32, metadata={"help": "smallest crop side in pixels"})
    adapt_size: int = field(default=0, metadata={"help": "crop resize for the adapt encoder; 0 = its native size (224 for CLIP)"})
    match_size: int = field(default=1024, metadata={"help": "side each view is resized to for L_match (paper 1024; TexGaussian code 672)"})
    match_rule: Literal["nn", "greedy"] = field(default="nn", metadata={"help": "token matching: 'nn' (paper) or 'greedy' (released code, one-to-one)"})
    mask_background: bool = field(default=True, metadata={"help": "drop near-white background tokens from L_match"})
    white_tolerance: float = field(default=5 / 255, metadata={"help": "L_match background mask: a pixel is object when some channel is more than this below white (released code: 5/255)"})  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.match_rule not in ("nn", "greedy"):
            raise ValueError(f"match_rule must be 'nn' or 'greedy', got {self.match_rule!r}")
        if not 0 < self.crop_scale_min <= self.crop_scale_max <= 1:
            raise ValueError(
                f"need 0 < crop_scale_min <= crop_scale_max <= 1, got "
                f"({self.crop_scale_min}, {self.crop_scale_max})"
            )
        if self.n_crops < 1 or self.min_crop < 1 or self.match_size < 1:
            raise ValueError("n_crops, min_crop and match_size must be positive")

    @property
    def crop_scale(self) -> tuple[float, float]:
        """``(crop_scale_min, crop_scale_max)``."""
        return (self.crop_scale_min, self.crop_scale_max)



PRESETS: dict[str, dict] = {
    "paper": {},
    "trellis-code": {"match_rule": "greedy", "match_size": 224, "mask_background": False},
    "texgaussian-code": {
        "lambda_adapt": 0.5, "n_crops": 8, "crop_scale_min": 0.3, "crop_scale_max": 0.8,
        "match_rule": "greedy", "match_size": 672, "mask_background": True,
    },  # fmt: skip
}
"""Named option sets. 'trellis-code' expects the 2x2 grid passed as a single view."""
