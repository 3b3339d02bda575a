"""Worker for test_ddp: 2 training steps under torchrun, then each rank writes a parameter digest."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from photo3d.encoders import load_encoder
from photo3d.losses import RealLoss, RealLossConfig
from photo3d.paradigms.coupled import CoupledConfig, build_coupled
from photo3d.train.config import TrainConfig
from photo3d.train.dataset import Photo3DMVDataset
from photo3d.train.loop import train

data, out = sys.argv[1], Path(sys.argv[2])
rank = int(os.environ["RANK"])
torch.set_num_threads(1)
torch.manual_seed(100 + rank)  # different inits on purpose: the loop must broadcast rank 0's
par = build_coupled(CoupledConfig(voxel_resolution=8, width=32, depth=1, gaussians_per_voxel=2, train_decoder=True))
loss = RealLoss.from_config(RealLossConfig(n_crops=2, min_crop=16, match_size=32),
                            load_encoder("tiny-clip"), load_encoder("tiny-dino"))
cfg = TrainConfig(data=data, out=str(out / "run"), steps=2, resolution=32, preview_every=0, ckpt_every=100,
                  final_samples=False, lr=1e-3)
res = train(par, Photo3DMVDataset(data, resolution=32), loss, cfg)
h = hashlib.sha256()
for mod in par.modules().values():
    for p in mod.parameters():
        h.update(p.detach().double().numpy().tobytes())
(out / f"rank{rank}.json").write_text(json.dumps({"digest": h.hexdigest(),
                                                  "losses": [r.get("loss") for r in res.records]}))
