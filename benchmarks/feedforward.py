"""Benchmark: the feed-forward (TexGaussian) paradigm, training steps and one inference.

Prints a markdown table. Every row runs in its own process so that its peak memory is its own
(CPU: max RSS, including the interpreter and torch, ~0.4 GB; CUDA: ``max_memory_allocated``).
All networks have **random weights** (no checkpoint is read); the released size is the PBR
model's 295.1M-parameter U-Net with a randomly initialised CLIP ViT-L/14-sized text tower.

    python benchmarks/feedforward.py                 # CPU rows (2 threads)
    python benchmarks/feedforward.py --device cuda   # + released-size training step, bf16, 512² x 4

Rows (peers side by side): training step of the tiny config with and without gradient
checkpointing; inference at depth 8 (200k points) on the bundled sugar box with the tiny and the
released-size network; on CUDA the released-size training step at the Photo3D recipe's view size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from _timing import peak_gb, sync

ROOT = Path(__file__).resolve().parents[1]
MV_TINY = ROOT / "src" / "photo3d" / "examples" / "mv_tiny"
SUGAR_BOX = ROOT / "src" / "photo3d" / "examples" / "ycb_004_sugar_box" / "004_sugar_box_1k.glb"




def _model(model: str, device: str, checkpointing: bool = True, depth: int = 0, infer_points: int = 0):
    """A random-weight network; the released size gets a random ViT-L/14-sized text tower."""
    from photo3d.paradigms.feedforward import FeedForwardConfig, build_feedforward
    from photo3d.paradigms.feedforward.text import CLIPTextTokens, tiny_tokenizer

    cfg = FeedForwardConfig(model=model, text_encoder="tiny", checkpointing=checkpointing, depth=depth,
                            infer_points=infer_points)
    tower = None
    if model == "texgaussian":
        import transformers

        clip = transformers.CLIPTextModel(transformers.CLIPTextConfig(
            vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
            num_attention_heads=12, max_position_embeddings=77))
        tower = CLIPTextTokens(clip, tiny_tokenizer(), "CLIP ViT-L/14-sized text (random weights)", False).to(device)
    return build_feedforward(cfg, device, text=tower)


def row_train(model: str, device: str, resolution: int, steps: int, checkpointing: bool, precision: str) -> dict:
    from photo3d.encoders import default_encoders
    from photo3d.losses import PRESETS, RealLoss, RealLossConfig
    from photo3d.train.dataset import Photo3DMVDataset

    torch.manual_seed(0)
    par = _model(model, device, checkpointing)
    ds = Photo3DMVDataset(MV_TINY, resolution=resolution)
    preset = {**PRESETS["texgaussian-code"], "match_size": resolution, "min_crop": min(32, resolution // 2)}
    adapt, match, _ = default_encoders("tiny", device)
    loss = RealLoss.from_config(RealLossConfig(**preset), adapt, match)
    opt = torch.optim.AdamW(par.model.unet.parameters(), lr=1e-4, betas=(0.9, 0.95))
    state, times = par.init_state(0), []
    bf16 = precision == "bf16"
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for i in range(steps + 1):  # the first step warms up allocators and lookup tables
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
            views, aux = par.step([ds[i % len(ds)]], state)
        loss(views.float(), aux["targets"]).backward()
        torch.nn.utils.clip_grad_norm_(par.model.unet.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        times.append(time.perf_counter() - t0)
    return {"what": f"train step, {model}, checkpointing {'on' if checkpointing else 'off'}, {precision}",
            "params_m": sum(p.numel() for p in par.model.unet.parameters()) / 1e6,
            "depth": par.model.arch.depth, "points": par.model.arch.train_points,
            "gaussians": int(aux["gaussians"]), "res": f"{resolution}² x4", "sec": statistics.median(times[1:]),
            "runs": steps, "peak_gb": peak_gb(device)}


def row_infer(model: str, device: str, repeats: int) -> dict:
    from photo3d.assets import load_asset

    torch.manual_seed(0)
    par = _model(model, device, depth=8, infer_points=200_000)
    mesh = load_asset(SUGAR_BOX).mesh
    net = par.model
    ctx = net.text_encoder(["a box of domino sugar, product photo"])
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    build, fwd, total = [], [], []
    for r in range(repeats + 1):
        sync(device)
        t0 = time.perf_counter()
        batch = net.octrees([mesh], net.arch.infer_points, [r])
        sync(device)
        t1 = time.perf_counter()
        with torch.no_grad():
            net.eval()
            g, _ = net(batch, ctx)[0]
        sync(device)
        t2 = time.perf_counter()
        build.append(t1 - t0)
        fwd.append(t2 - t1)
        total.append(t2 - t0)
    return {"what": f"inference, {model}, sugar box", "params_m": sum(p.numel() for p in net.unet.parameters()) / 1e6,
            "depth": net.arch.depth, "points": net.arch.infer_points, "gaussians": len(g), "res": "-",
            "sec": statistics.median(total[1:]), "octree_s": statistics.median(build[1:]),
            "unet_s": statistics.median(fwd[1:]), "runs": repeats, "peak_gb": peak_gb(device)}


def _child(spec: dict) -> None:
    torch.set_num_threads(spec.pop("threads"))
    kind = spec.pop("kind")
    row = row_train(**spec) if kind == "train" else row_infer(**spec)
    print("ROW " + json.dumps(row))


def _run(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("ROW ")), None)
    if line is None:
        raise RuntimeError(f"benchmark row {spec} failed:\n{out.stderr[-2000:]}")
    return json.loads(line[4:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5, help="timed training steps per row (after one warm-up)")
    ap.add_argument("--repeats", type=int, default=3, help="timed inferences per row (after one warm-up)")
    ap.add_argument("--resolution", type=int, default=64, help="view size of the tiny training rows")
    ap.add_argument("--skip-released", action="store_true", help="skip the 295M-parameter rows")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(json.loads(args.child))
    dev, thr = args.device, args.threads
    cuda = dev.startswith("cuda")
    prec = "bf16" if cuda else "fp32"
    specs = [dict(kind="train", model="tiny", device=dev, resolution=args.resolution, steps=args.steps,
                  checkpointing=c, precision=prec, threads=thr) for c in (False, True)]
    specs.append(dict(kind="infer", model="tiny", device=dev, repeats=args.repeats, threads=thr))
    if not args.skip_released:
        specs.append(dict(kind="infer", model="texgaussian", device=dev, repeats=args.repeats, threads=thr))
        if cuda:
            specs += [dict(kind="train", model="texgaussian", device=dev, resolution=512, steps=args.steps,
                           checkpointing=c, precision="bf16", threads=thr) for c in (True, False)]
    rows = [_run(s) for s in specs]
    name = torch.cuda.get_device_name(0) if cuda else f"CPU, {thr} threads"
    print(f"device {dev} ({name}), torch {torch.__version__}; medians of the timed runs; random weights\n")
    print("| what | U-Net params | depth | points | Gaussians | views | seconds | octree s | U-Net s | runs | peak GB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['params_m']:.1f}M | {r['depth']} | {r['points']:,} | {r['gaussians']:,} | {r['res']} "
              f"| {r['sec']:.3f} | {r.get('octree_s', float('nan')):.3f} | {r.get('unet_s', float('nan')):.3f} "
              f"| {r['runs']} | {r['peak_gb']:.2f} |")
    on, off = rows[1]["sec"], rows[0]["sec"]
    print(f"\ntiny training step, checkpointing on / off: {on / off:.2f}x the time")
    inf = [r for r in rows if r["what"].startswith("inference")]
    if len(inf) == 2:
        print(f"inference at depth 8, released size / tiny: {inf[1]['sec'] / inf[0]['sec']:.1f}x the time")


if __name__ == "__main__":
    main()
