"""Settings of ``photo3d generate`` (torch-free: the CLI builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from photo3d.config import TypedConfig
from photo3d.errors import InputError


@dataclass
class GenerateConfig(TypedConfig):
    """Image-to-3D with TRELLIS-image-large (or Photo3D's fine-tuned stage 2)."""

    weights: str = field(default="", metadata={
        "help": "a local TRELLIS-image-large folder (pipeline.json + ckpts/), or 'tiny' for random stand-in weights",
        "metavar": "DIR|tiny"})
    checkpoint: str = field(default="", metadata={
        "help": "swap in Photo3D's fine-tuned SLAT flow + Gaussian decoder: 'photo3d' "
                "($PHOTO3D_TRELLIS_CHECKPOINT) or their folder", "metavar": "photo3d|DIR"})
    dinov2: str = field(default="", metadata={
        "help": "local DINOv2-with-registers folder; unset = pipeline.json's dinov2_vitl14_reg, read as "
                "facebook/dinov2-with-registers-large from the local cache or $PHOTO3D_DINOV2_REG", "metavar": "DIR"})
    seed: int = field(default=42, metadata={"help": "seed of the structure and SLAT noise (TRELLIS default 42)"})
    ss_steps: int | None = field(default=None, metadata={"help": "structure sampler steps; unset = pipeline.json's (25)"})
    ss_cfg: float | None = field(default=None, metadata={"help": "structure guidance strength s; unset = pipeline.json's (7.5)"})
    slat_steps: int | None = field(default=None, metadata={"help": "SLAT sampler steps; unset = pipeline.json's (25)"})
    slat_cfg: float | None = field(default=None, metadata={"help": "SLAT guidance strength s; unset = pipeline.json's (3.0)"})
    matting: Literal["auto", "rembg", "threshold"] = field(default="auto", metadata={
        "help": "background removal for images without alpha: rembg when installed, else a white threshold"})
    resolution: int = field(default=512, metadata={"help": "pixels per view of grid.png and turntable.png"})
    device: str = field(default="auto", metadata={"help": "auto (CUDA when available), cpu, cuda, cuda:N"})
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field(default="auto", metadata={
        "help": "network blocks' precision: auto = fp32 on CPU, bf16 on CUDA (fp16 without bf16)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.weights:
            raise InputError("--weights is required: a local TRELLIS-image-large folder "
                             "(huggingface-cli download microsoft/TRELLIS-image-large --local-dir DIR) or 'tiny'")
        for name in ("ss_steps", "slat_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.resolution < 16:
            raise InputError(f"--resolution must be >= 16, got {self.resolution}")
