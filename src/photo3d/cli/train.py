"""``photo3d train PARADIGM``: fine-tune a generator on Photo3D-MV with L_real.

Paradigms: ``coupled`` (TRELLIS-style flow generator, Photo3D §4a), ``feedforward``
(TexGaussian's octree U-Net, §4b) and ``mvdiffusion`` (geometry-conditioned multi-view diffusion,
Step1X-3D's texture model, §4c). Each sub-command is the shared run options + the paradigm's
options + the L_real options, with the paradigm's released recipe as defaults. Multi-process:
``torchrun --nproc_per_node N $(which photo3d) train PARADIGM ...`` (gloo on CPU, nccl on CUDA).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.losses.config import PRESETS, RealLossConfig
from photo3d.paradigms.coupled.config import CoupledConfig
from photo3d.paradigms.feedforward.config import FeedForwardConfig
from photo3d.paradigms.mvdiffusion.config import MVDiffusionConfig
from photo3d.train.config import TrainConfig

COUPLED_EXAMPLE = """examples:
  photo3d train coupled --data src/photo3d/examples/mv_tiny --out outputs/train_tiny \\
      --encoders tiny --steps 20 --resolution 64
  photo3d train coupled --data src/photo3d/examples/mv_tiny --out outputs/train_trellis_tiny \\
      --encoders tiny --steps 2 --resolution 32 --generator trellis --trellis-path tiny
  torchrun --nproc_per_node 8 $(which photo3d) train coupled --data DATA --out OUT \\
      --generator trellis --trellis-path weights/TRELLIS-image-large [--trellis-checkpoint ck/Trellis]
"""

FEEDFORWARD_EXAMPLE = """examples:
  # smoke run on CPU: tiny random octree U-Net + tiny random text tower and encoders
  photo3d train feedforward --data src/photo3d/examples/mv_tiny --out outputs/train_ff_tiny \\
      --model tiny --encoders tiny --steps 20 --resolution 64 --batch-size 1 --accum 1
  # Photo3D's recipe from TexGaussian's released PBR model (needs CLIP ViT-L/14 and the weights)
  photo3d train feedforward --data DATA --out OUT --weights PBR_model.safetensors
"""

MVDIFFUSION_EXAMPLE = """examples:
  # smoke run on CPU: the tiny random SDXL-structured model and tiny random L_real encoders
  photo3d train mvdiffusion --data src/photo3d/examples/mv_tiny --out outputs/train_mv_tiny \\
      --model tiny --encoders tiny --steps 20 --resolution 64 --lr 1e-3 --warmup-steps 0 --sample-steps 10
  # Photo3D on Step1X-3D's texture model (SDXL + step1x-3d-ig2v.safetensors in WEIGHTS; recipe defaults)
  torchrun --nproc_per_node 8 $(which photo3d) train mvdiffusion --data DATA --out OUT --model WEIGHTS
"""


@dataclass(frozen=True)
class ParadigmCommand:
    """One ``photo3d train`` sub-command."""

    name: str
    help: str
    config: type
    example: str
    build: Callable  # (paradigm config, device, TrainConfig) -> Paradigm (optionally .description, .export)
    train_defaults: dict = field(default_factory=dict)
    train_skip: tuple[str, ...] = ()  # run options the paradigm has no use for
    loss_defaults: dict = field(default_factory=dict)


def _build_coupled(cfg, device, run):
    from photo3d.paradigms.coupled import build_coupled

    return build_coupled(cfg, device)


def _build_feedforward(cfg, device, run):
    from photo3d.paradigms.feedforward import build_feedforward

    return build_feedforward(cfg, device)


def _build_mvdiffusion(cfg, device, run):
    from photo3d.paradigms.mvdiffusion import build_mvdiffusion

    return build_mvdiffusion(cfg, device, resolution=run.resolution)


PARADIGMS: tuple[ParadigmCommand, ...] = (
    ParadigmCommand("coupled", "geometry-texture coupled, diffusion-based (TRELLIS; Photo3D §4a)",
                    CoupledConfig, COUPLED_EXAMPLE, _build_coupled),
    ParadigmCommand(
        "feedforward", "feed-forward texturing on the mesh's octree (TexGaussian; Photo3D §4b)",
        FeedForwardConfig, FEEDFORWARD_EXAMPLE, _build_feedforward,
        # the Photo3D release's TexGaussian/train.sh + core/options.py + train_from_grid.py
        train_defaults=dict(lr=1e-4, weight_decay=0.0, adam_betas=(0.9, 0.95), lr_schedule="onecycle",
                            warmup_steps=10, ema_decay=0.999, grad_clip=1.0, batch_size=8, accum=2,
                            resolution=512),
        train_skip=("decoder_lr", "sample_steps", "sample_cfg"),
        loss_defaults=PRESETS["texgaussian-code"],
    ),
    ParadigmCommand(
        "mvdiffusion", "geometry-conditioned multi-view diffusion texturing (Step1X-3D / MV-Adapter; Photo3D §4c)",
        MVDiffusionConfig, MVDIFFUSION_EXAMPLE, _build_mvdiffusion,
        # Step1X-3D configs/train-texture-ig2mv/step1x3d_ig2mv_sdxl.yaml: AdamW 5e-5, wd 0.01, 2000 warm-up
        # steps, clip 1.0, 768² views; its sampler: 50 DDPM steps, guidance 3.0
        train_defaults=dict(lr=5e-5, weight_decay=0.01, warmup_steps=2000, grad_clip=1.0, resolution=768,
                            sample_steps=50, sample_cfg=3.0),
        train_skip=("decoder_lr",),
    ),
)  # fmt: skip


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="fine-tune a 3D generator on Photo3D-MV (paradigms: "
                                   + ", ".join(p.name for p in PARADIGMS) + ")",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="paradigm", metavar="PARADIGM", required=True)
    for cmd in PARADIGMS:
        p = sub.add_parser(cmd.name, help=cmd.help, epilog=cmd.example,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_config_arguments(p, TrainConfig, group="run", skip=cmd.train_skip, defaults=cmd.train_defaults)
        add_config_arguments(p, cmd.config, group=f"{cmd.name} paradigm")
        add_config_arguments(p, RealLossConfig, group="loss (L_real)", defaults=cmd.loss_defaults)
        p.set_defaults(_run=run, _paradigm=cmd)


def run(args: argparse.Namespace) -> int:
    import torch

    from photo3d.encoders import default_encoders
    from photo3d.errors import InputError
    from photo3d.losses import RealLoss
    from photo3d.train.dataset import Photo3DMVDataset
    from photo3d.train.loop import init_distributed, train

    cmd: ParadigmCommand = args._paradigm
    cfg = config_from_args(TrainConfig, args, **{k: v for k, v in cmd.train_defaults.items() if k in cmd.train_skip})
    if not cfg.data:
        raise InputError("--data is required: a Photo3D-MV folder (e.g. src/photo3d/examples/mv_tiny)")
    pcfg = config_from_args(cmd.config, args)
    lcfg = config_from_args(RealLossConfig, args)
    rank, world, device = init_distributed(cfg.device)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank (rank 0's are broadcast too)
    dataset = Photo3DMVDataset(cfg.data, resolution=cfg.resolution)
    adapt, match, enc_record = default_encoders(cfg.encoders, device)
    default_match = cmd.loss_defaults.get("match_size", RealLossConfig.match_size)
    if cfg.encoders == "tiny" and lcfg.match_size == default_match:
        lcfg.match_size = cfg.resolution  # 672 / 1024 px per view only make sense for the real DINO
    loss = RealLoss.from_config(lcfg, adapt, match)
    paradigm = cmd.build(pcfg, device, cfg)
    gen_record = getattr(paradigm, "description", None) or getattr(paradigm.model, "description", None) \
        or {"name": type(paradigm.model).__name__}
    if rank == 0:
        kind = "STAND-IN" if enc_record.get("standin") else "paper"
        print(f"photo3d train: encoders ({kind}): adapt={enc_record['adapt'].get('name')} "
              f"match={enc_record['match'].get('name')}; {enc_record.get('reason', '')}")
        print(f"photo3d train: generator: {gen_record.get('name')}; {len(dataset)} samples, "
              f"{len(dataset.skipped)} skipped; world size {world}; device {device}")
        for line in (gen_record.get("weights_line"), gen_record.get("note")):
            if line:
                print(f"photo3d train: {line}")
    record = {"paradigm": cmd.name, cmd.name: pcfg.to_dict(), "loss": loss.describe(),
              "encoders": enc_record, "generator": gen_record,
              "skipped_samples": [{"id": i, "reason": r} for i, r in dataset.skipped]}
    result = train(paradigm, dataset, loss, cfg, record=record)
    export = getattr(paradigm, "export", None)  # e.g. weights in the original code's layout
    if rank == 0 and callable(export):
        for what, path in (export(result.out_dir) or {}).items():
            print(f"photo3d train: exported {what}: {path}")
    if rank == 0:
        last = next((r for r in reversed(result.records) if "loss" in r), {})
        print(f"photo3d train: done, {len(result.records)} steps run ({len(result.skipped_steps)} skipped), "
              f"last loss {last.get('loss', float('nan')):.4f}; outputs in {result.out_dir}")
    return 0
