"""Options of the multi-view diffusion paradigm (torch-free, so the CLI builds options from it).

Defaults follow Step1X-3D's texture model (stepfun-ai/Step1X-3D ``step1x3d_texture``, itself
MV-Adapter's image+geometry-to-multiview SDXL model) where it states a value:

| option | default | Step1X-3D / MV-Adapter ig2mv |
|---|---|---|
| views, resolution | 6, 768 | 6 orthographic views, 768² (96² latents) |
| shift_scale, shift_mode | 8, interpolated | ShiftSNRScheduler(interpolated, 8) for training and sampling |
| prompt/image/joint drop | 0.1 each | prompt_drop_prob, image_drop_prob, cond_drop_prob = 0.1 |
| sample steps, guidance | 50, 3.0 | DDPM 50 steps, guidance 3.0 |
| negative prompt | "watermark, ugly, deformed, noisy, blurry, low contrast" | same |
| optimiser (set in the run options) | AdamW 5e-5, wd 0.01, 2000 warm-up steps, clip 1.0 | same |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from photo3d.config import TypedConfig
from photo3d.errors import ConfigError

NEGATIVE_PROMPT = "watermark, ugly, deformed, noisy, blurry, low contrast"


@dataclass
class MVDiffusionConfig(TypedConfig):
    """Photo3D on geometry-conditioned multi-view diffusion: one-step x0, VAE decode, L_real."""

    model: str = field(default="tiny", metadata={"help": "tiny (random stand-in for smoke runs) or a local weights folder (SDXL base + fp16-fix VAE + ig2mv adapter)"})
    adapter: str = field(default="", metadata={"help": "adapter safetensors (step1x-3d-ig2v.safetensors or mvadapter_ig2mv_sdxl.safetensors); default: found in --model"})
    layout: Literal["step1x3d", "row"] = field(default="step1x3d", metadata={"help": "multi-view attention: step1x3d (6 views, rows 0-3 + columns 0/2/4/5) or row (row attention over all views)"})
    x0_source: Literal["render", "edited"] = field(default="render", metadata={"help": "clean latents that get noised: the asset's own render at the model cameras (as Photo3D's TRELLIS x0) or the edited views reprojected"})
    t_min: float = field(default=0.0, metadata={"help": "sampled timesteps lie in [t_min, t_max] as fractions of the training schedule"})
    t_max: float = field(default=1.0, metadata={"help": "upper end of the timestep range"})
    shift_scale: float = field(default=8.0, metadata={"help": "SNR shift of the noise schedule (Step1X-3D 8; 1 = SDXL's own)"})
    shift_mode: Literal["interpolated", "default"] = field(default="interpolated", metadata={"help": "shifted-SNR variant (Step1X-3D: interpolated)"})
    prompt_drop: float = field(default=0.1, metadata={"help": "probability of an empty prompt (Step1X-3D 0.1)"})
    image_drop: float = field(default=0.1, metadata={"help": "probability of a zeroed reference image (Step1X-3D 0.1)"})
    joint_drop: float = field(default=0.1, metadata={"help": "probability of dropping prompt and image together (Step1X-3D cond_drop 0.1)"})
    reference_view: int = field(default=-1, metadata={"help": "edited grid view used as the reference image (-1 = a random one per step)"})
    train_adapter: bool = field(default=True, metadata={"help": "train the geometry T2I-Adapter as well as the _mv/_ref weights (Step1X-3D: yes)"})
    lora_rank: int = field(default=0, metadata={"help": "also train a LoRA of this rank on the base UNet's attention (0 = off; needs peft)"})
    decoder_checkpointing: bool = field(default=True, metadata={"help": "gradient checkpointing through the frozen VAE decoder"})
    unet_checkpointing: bool = field(default=False, metadata={"help": "gradient checkpointing in the UNet (saves memory at 768²)"})
    min_coverage: float = field(default=0.05, metadata={"help": "pixels whose reprojected edited colour has a summed cos^4 weight below this are left out of L_real"})
    negative_prompt: str = field(default=NEGATIVE_PROMPT, metadata={"help": "negative prompt of the guided samples (their guidance: --sample-cfg, Step1X-3D 3.0)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.t_min < self.t_max <= 1.0:
            raise ConfigError(f"MVDiffusionConfig: need 0 <= t_min < t_max <= 1, got ({self.t_min}, {self.t_max})")
        for name in ("prompt_drop", "image_drop", "joint_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"MVDiffusionConfig.{name} = {getattr(self, name)}: expected a probability in [0, 1)")
        if self.shift_scale <= 0:
            raise ConfigError(f"MVDiffusionConfig.shift_scale = {self.shift_scale}: expected a positive number")
        if self.lora_rank < 0:
            raise ConfigError(f"MVDiffusionConfig.lora_rank = {self.lora_rank}: expected an integer >= 0")

    @property
    def is_tiny(self) -> bool:
        """True for the tiny random stand-in model."""
        return self.model == "tiny"
