"""Options of a fine-tuning run (torch-free, so the CLI builds ``--options`` from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from photo3d.config import TypedConfig, option
from photo3d.encoders.selection import EncoderPref


@dataclass
class TrainConfig(TypedConfig):
    """One training run: data, schedule, optimiser, precision, bookkeeping."""

    data: str = option("", "Photo3D-MV folder (grid_{id}.png + {id}/mesh.obj + prompts)")
    out: str = option("outputs/train",
        "run folder (config.json, log.jsonl, checkpoints/, previews/, samples/)")
    steps: int = option(100, "optimizer steps (paper: 100K for TRELLIS)")
    lr: float = option(1e-4, "AdamW learning rate of the generator (paper 1e-4)")
    decoder_lr: float = option(0.0, "learning rate of the decoder with --train-decoder (0 = --lr)")
    weight_decay: float = option(0.0, "AdamW weight decay (TRELLIS config 0)")
    warmup_steps: int = option(0, "linear learning-rate warm-up steps")
    batch_size: int = option(1, "samples per step per process (paper 1)")
    accum: int = option(1, "gradient accumulation micro-batches per optimizer step")
    resolution: int = option(128, "per-view render/target resolution (paper 512)")
    ema_decay: float = option(0.9999, "EMA decay of the trainable weights (TRELLIS 0.9999)")
    grad_clip: float = option(1.0, "max global gradient norm (0 disables; TRELLIS 1.0)")
    precision: Literal["auto", "fp32", "bf16"] = option("auto", "auto = bf16 autocast on CUDA, fp32 on CPU")
    encoders: EncoderPref = option("paper",
        "L_real encoders: paper (CLIP+DINOv3, falls back to offline), offline (Inception stand-in), tiny "
        "(random test encoders)")
    seed: int = option(0, "seed of the data order, noise, timesteps and crops")
    resume: str = option("", "checkpoint to resume from, or 'auto' for OUT/checkpoints/latest.safetensors")
    ckpt_every: int = option(50, "checkpoint every N steps (and at the end)")
    preview_every: int = option(25, "write a preview grid every N steps (0 disables)")
    log_every: int = option(1, "log every N steps")
    sample_steps: int = option(12, "Euler steps of the final samples (TRELLIS SLAT sampler 12)")
    sample_cfg: float = option(3.0, "classifier-free guidance scale of the final samples (TRELLIS 3.0)")
    final_samples: bool = option(True, "render samples/grid_{id}.png for every sample at the end")
    device: str = option("auto", "auto, cpu, cuda or cuda:N (torchrun sets the local rank)")

