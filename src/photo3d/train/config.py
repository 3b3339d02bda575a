"""Options of a fine-tuning run (torch-free, so the CLI builds ``--options`` from it).

Fields marked ``"run_only"`` (where and how long it runs, logging, the final samples) may change
when a run is resumed; every other option must match the checkpoint's (``--resume-override``
resumes anyway and records the differences).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from photo3d.config import TypedConfig
from photo3d.errors import ConfigError
from photo3d.encoders.selection import EncoderPref


@dataclass
class TrainConfig(TypedConfig):
    """One training run: data, schedule, optimiser, precision, bookkeeping."""

    data: str = field(default="", metadata={"help": "Photo3D-MV folder (grid_{id}.png + {id}/mesh.obj + prompts)"})
    out: str = field(default="outputs/train", metadata={"run_only": True, "help": "run folder (config.json, log.jsonl, checkpoints/, previews/, samples/)"})
    steps: int = field(default=100, metadata={"run_only": True, "help": "optimizer steps (paper: 100K for TRELLIS)"})
    lr: float = field(default=1e-4, metadata={"help": "AdamW learning rate of the generator (paper 1e-4)"})
    decoder_lr: float = field(default=0.0, metadata={"help": "learning rate of the decoder with --train-decoder (0 = --lr)"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay (TRELLIS config 0)"})
    warmup_steps: int = field(default=0, metadata={"help": "learning-rate warm-up steps (linear for 'warmup', the rising phase for 'onecycle')"})
    lr_schedule: Literal["warmup", "onecycle"] = field(default="warmup", metadata={"help": "warmup = linear warm-up then constant (TRELLIS); onecycle = torch OneCycleLR up to --lr over --warmup-steps, cosine down to lr/25e4 (TexGaussian)"})
    cycle_momentum: bool = field(default=True, metadata={"help": "onecycle: cycle AdamW beta1 0.95 -> 0.85 -> 0.95 against the lr (torch's default, so the TexGaussian release's effective beta1)"})
    adam_betas: tuple[float, float] = field(default=(0.9, 0.999), metadata={"help": "AdamW (beta1, beta2) (TexGaussian fine-tune 0.9 0.95)"})
    batch_size: int = field(default=1, metadata={"help": "samples per step per process (paper 1)"})
    accum: int = field(default=1, metadata={"help": "gradient accumulation micro-batches per optimizer step"})
    resolution: int = field(default=128, metadata={"help": "per-view render/target resolution (paper 512)"})
    ema_decay: float = field(default=0.9999, metadata={"help": "EMA decay of the trainable weights (TRELLIS 0.9999)"})
    grad_clip: float = field(default=1.0, metadata={"help": "max global gradient norm (0 disables; TRELLIS 1.0)"})
    precision: Literal["auto", "fp32", "bf16"] = field(default="auto", metadata={"help": "auto = bf16 autocast on CUDA, fp32 on CPU"})
    encoders: EncoderPref = field(default="paper", metadata={"help": "L_real encoders: paper (CLIP+DINOv3, falls back to offline), offline (Inception stand-in), tiny (random test encoders)"})
    seed: int = field(default=0, metadata={"help": "seed of the data order, noise, timesteps and crops"})
    resume: str = field(default="", metadata={"run_only": True, "help": "checkpoint to resume from, or 'auto' for OUT/checkpoints/latest.safetensors; options that change what is trained must match the checkpoint's"})
    resume_override: bool = field(default=False, metadata={"run_only": True, "help": "resume although options differ from the checkpoint's (the differences are recorded in config.json)"})
    ckpt_every: int = field(default=50, metadata={"run_only": True, "help": "checkpoint every N steps (and at the end)"})
    preview_every: int = field(default=25, metadata={"run_only": True, "help": "write a preview grid every N steps (0 disables)"})
    log_every: int = field(default=1, metadata={"run_only": True, "help": "log every N steps"})
    sample_steps: int = field(default=12, metadata={"run_only": True, "help": "Euler steps of the final samples (TRELLIS SLAT sampler 12)"})
    sample_cfg: float = field(default=3.0, metadata={"run_only": True, "help": "guidance strength s of the final samples, (1+s) v_c - s v_u (TRELLIS SLAT 3.0)"})
    final_samples: bool = field(default=True, metadata={"run_only": True, "help": "render samples/grid_{id}.png for every sample at the end"})
    device: str = field(default="auto", metadata={"run_only": True, "help": "auto, cpu, cuda or cuda:N (torchrun sets the local rank)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not all(0.0 <= b < 1.0 for b in self.adam_betas):
            raise ConfigError(f"TrainConfig.adam_betas = {self.adam_betas}: expected two numbers in [0, 1)")
