"""``photo3d train PARADIGM``: fine-tune a generator on Photo3D-MV with L_real.

Only the coupled (TRELLIS-style) paradigm ships; the decoupled ones are future work, so the
sub-parser lists only ``coupled``. Multi-process: ``torchrun --nproc_per_node N $(which photo3d)
train coupled ...`` (gloo on CPU, nccl on CUDA).
"""

from __future__ import annotations

import argparse

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.losses.config import RealLossConfig
from photo3d.paradigms.coupled.config import CoupledConfig
from photo3d.train.config import TrainConfig

EXAMPLE = """examples:
  photo3d train coupled --data src/photo3d/examples/mv_tiny --out outputs/train_tiny \\
      --encoders tiny --steps 20 --resolution 64
  torchrun --nproc_per_node 8 $(which photo3d) train coupled --data DATA --out OUT --generator trellis
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="fine-tune a 3D generator on Photo3D-MV (paradigms: coupled)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="paradigm", metavar="PARADIGM", required=True)
    p = sub.add_parser("coupled", help="geometry-texture coupled, diffusion-based (TRELLIS; Photo3D §4a)",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(p, TrainConfig, group="run")
    add_config_arguments(p, CoupledConfig, group="coupled paradigm")
    add_config_arguments(p, RealLossConfig, group="loss (L_real)")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from photo3d.encoders import default_encoders
    from photo3d.errors import InputError
    from photo3d.losses import RealLoss
    from photo3d.paradigms.coupled import build_coupled
    from photo3d.train.dataset import Photo3DMVDataset
    from photo3d.train.loop import init_distributed, train

    cfg = config_from_args(TrainConfig, args)
    if not cfg.data:
        raise InputError("--data is required: a Photo3D-MV folder (e.g. src/photo3d/examples/mv_tiny)")
    ccfg = config_from_args(CoupledConfig, args)
    lcfg = config_from_args(RealLossConfig, args)
    rank, world, device = init_distributed(cfg.device)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank (rank 0's are broadcast too)
    dataset = Photo3DMVDataset(cfg.data, resolution=cfg.resolution)
    adapt, match, enc_record = default_encoders(cfg.encoders, device)
    if cfg.encoders == "tiny" and lcfg.match_size == RealLossConfig.match_size:
        lcfg.match_size = cfg.resolution  # 1024 px per view only makes sense for the real DINO
    loss = RealLoss.from_config(lcfg, adapt, match)
    paradigm = build_coupled(ccfg, device)
    gen_record = getattr(paradigm.model, "description", {"name": type(paradigm.model).__name__})
    if rank == 0:
        kind = "STAND-IN" if enc_record.get("standin") else "paper"
        print(f"photo3d train: encoders ({kind}): adapt={enc_record['adapt'].get('name')} "
              f"match={enc_record['match'].get('name')}; {enc_record.get('reason', '')}")
        print(f"photo3d train: generator: {gen_record.get('name')}; {len(dataset)} samples, "
              f"{len(dataset.skipped)} skipped; world size {world}; device {device}")
    record = {"paradigm": "coupled", "coupled": ccfg.to_dict(), "loss": loss.describe(),
              "encoders": enc_record, "generator": gen_record,
              "skipped_samples": [{"id": i, "reason": r} for i, r in dataset.skipped]}
    result = train(paradigm, dataset, loss, cfg, record=record)
    if rank == 0:
        last = next((r for r in reversed(result.records) if "loss" in r), {})
        print(f"photo3d train: done, {len(result.records)} steps run ({len(result.skipped_steps)} skipped), "
              f"last loss {last.get('loss', float('nan')):.4f}; outputs in {result.out_dir}")
    return 0
