"""Benchmark: multi-view diffusion fine-tuning steps and texturing runs (Step1X-3D-style model).

Prints markdown tables. CPU figures use the tiny random model on the bundled mv_tiny set (64²,
6 views); on a shared CPU they are noisy, re-run on a quiet machine.

    python benchmarks/mvdiffusion.py                   # CPU: tiny model, L_real training step + sampling
    python benchmarks/mvdiffusion.py --threads 2 --steps 10
    python benchmarks/mvdiffusion.py --device cuda     # also SDXL-sized random weights, bf16, 768² x 6 views

Rows (CPU): one optimizer step of the multi-view paradigm (the Step1X-3D 6-view layout and the
row-only layout, decoder checkpointing on and off) next to the coupled paradigm's step on the same
samples and loss (the reference peer); one texturing run (DDPM, guidance 3). On CUDA: one training
step and one 50-step texturing run of an SDXL-sized UNet (2.57B) + ig2mv adapter (0.9B) + SDXL VAE
with random weights in bf16 (the released model's shapes, not its weights), text embeddings drawn
at random in SDXL's shapes (the two CLIP towers are frozen and run once per prompt), L_real with
the tiny encoders (CLIP ViT-B/32 + DINOv3 ViT-L/16 add their own cost). Peak memory
is the process's max RSS on CPU and ``max_memory_allocated`` on CUDA.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from _timing import peak_gb, sync

ROOT = Path(__file__).resolve().parents[1]




def _steps(par, ds, loss, steps: int, device: str) -> list[float]:
    """Seconds of ``steps`` optimizer steps (after one warm-up step)."""
    mods = par.trainable_modules()
    for m in mods.values():
        m.requires_grad_(True)
    params = [p for m in mods.values() for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-5)
    state = par.init_state(0)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            views, aux = par.step([ds[i % len(ds)]], state)
        loss(views.float(), aux["targets"].float()).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        times.append(time.perf_counter() - t0)
    return times[1:]


def _loss(resolution: int, device: str):
    from photo3d.encoders import load_encoder
    from photo3d.losses import RealLoss, RealLossConfig

    return RealLoss.from_config(RealLossConfig(n_crops=2, min_crop=16, match_size=resolution),
                                load_encoder("tiny-clip", device), load_encoder("tiny-dino", device))


def cpu_rows(steps: int, resolution: int) -> list[dict]:
    from photo3d.paradigms.coupled import CoupledConfig, build_coupled
    from photo3d.paradigms.mvdiffusion import MVDiffusionConfig, build_mvdiffusion
    from photo3d.paradigms.mvdiffusion.sampler import generate_views
    from photo3d.train.dataset import Photo3DMVDataset

    ds = Photo3DMVDataset(ROOT / "src/photo3d/examples/mv_tiny", resolution=resolution)
    loss = _loss(resolution, "cpu")
    rows = []
    variants = [("mvdiffusion tiny, step1x3d layout", {}),
                ("mvdiffusion tiny, step1x3d layout, no decoder checkpointing", {"decoder_checkpointing": False}),
                ("mvdiffusion tiny, row layout", {"layout": "row"})]
    for name, kw in variants:
        torch.manual_seed(0)
        par = build_mvdiffusion(MVDiffusionConfig(**kw), resolution=resolution)
        for s in (ds[0], ds[1]):
            par.prepare(s)  # cached per sample in a run: time it separately
        t = _steps(par, ds, loss, steps, "cpu")
        rows.append({"what": name, "views": "6 (4 supervised)", "res": f"{resolution}²",
                     "median_s": statistics.median(t), "peak_gb": peak_gb("cpu")})
    torch.manual_seed(0)
    coupled = build_coupled(CoupledConfig(train_decoder=True))
    t = _steps(coupled, ds, loss, steps, "cpu")
    rows.append({"what": "peer: coupled reference generator (same loop, loss)", "views": "4",
                 "res": f"{resolution}²", "median_s": statistics.median(t), "peak_gb": peak_gb("cpu")})
    torch.manual_seed(0)
    par = build_mvdiffusion(MVDiffusionConfig(), resolution=resolution)
    prep = par.prepare(ds[0])
    times = []
    for seed in range(3):
        t0 = time.perf_counter()
        generate_views(par.model, prep.control, prep.prompt, None, steps=50, guidance=3.0, seed=seed, progress=False)
        times.append(time.perf_counter() - t0)
    rows.append({"what": "texturing run, tiny (50 DDPM steps, guidance 3)", "views": "6", "res": f"{resolution}²",
                 "median_s": statistics.median(times), "peak_gb": peak_gb("cpu")})
    return rows


class RandomPrompts:
    """SDXL-shaped prompt embeddings (``[B, 77, 2048]``, pooled ``[B, 1280]``), random but fixed per prompt."""

    description = {"name": "random SDXL-shaped prompt embeddings (benchmark stand-in)", "standin": True}
    modules: list = []
    pooled_dim = 1280

    def encode(self, prompts):
        g = torch.Generator().manual_seed(sum(map(ord, "".join(prompts))))
        return torch.randn(len(prompts), 77, 2048, generator=g), torch.randn(len(prompts), 1280, generator=g)


def sdxl_sized_model(device: str, dtype: torch.dtype):
    """SDXL UNet + ig2mv adapter + SDXL VAE with random weights, in ``dtype`` on ``device``."""
    import diffusers

    from photo3d.paradigms.mvdiffusion.attention import STEP1X_LAYOUT, install_mv_attention
    from photo3d.paradigms.mvdiffusion.model import MVDiffusionModel
    from photo3d.paradigms.mvdiffusion.schedule import shifted_ddpm
    from photo3d.paradigms.mvdiffusion.weights import SDXL_UNET_CONFIG, SDXL_VAE_CONFIG, adapter_config

    torch.manual_seed(0)
    with torch.device(device):
        unet = diffusers.UNet2DConditionModel(**SDXL_UNET_CONFIG).to(dtype)
        vae = diffusers.AutoencoderKL(**SDXL_VAE_CONFIG).to(dtype)
        adapter = diffusers.T2IAdapter(**adapter_config(SDXL_UNET_CONFIG["block_out_channels"])).to(dtype)
    install_mv_attention(unet)
    unet.requires_grad_(False)
    vae.requires_grad_(False)
    return MVDiffusionModel(unet, vae, adapter, RandomPrompts(), shifted_ddpm(), STEP1X_LAYOUT, 6,
                            {"name": "SDXL-sized random weights (benchmark)", "standin": True})


def gpu_rows(device: str, resolution: int) -> list[dict]:
    from photo3d.paradigms.mvdiffusion import MVDiffusionConfig
    from photo3d.paradigms.mvdiffusion.sampler import generate_views
    from photo3d.paradigms.mvdiffusion.strategy import MVDiffusionStrategy
    from photo3d.train.dataset import Photo3DMVDataset

    rows = []
    ds = Photo3DMVDataset(ROOT / "src/photo3d/examples/mv_tiny", resolution=512)
    loss = _loss(resolution, device)
    for ckpt in (True, False):
        model = sdxl_sized_model(device, torch.bfloat16)
        model.adapter.float()
        model.mv_attention().float()
        par = MVDiffusionStrategy(model, MVDiffusionConfig(model="sdxl-random", unet_checkpointing=ckpt), resolution)
        par.prepare(ds[0])
        torch.cuda.reset_peak_memory_stats()
        t = _steps(par, ds, loss, 3, device)
        rows.append({"what": f"training step, SDXL-sized bf16, UNet checkpointing {'on' if ckpt else 'off'}",
                     "views": "6 (4 supervised)", "res": f"{resolution}²", "median_s": statistics.median(t),
                     "peak_gb": peak_gb(device)})
        del par, model
        torch.cuda.empty_cache()
    model = sdxl_sized_model(device, torch.bfloat16)
    par = MVDiffusionStrategy(model, MVDiffusionConfig(model="sdxl-random"), resolution)
    prep = par.prepare(ds[0])
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    generate_views(model, prep.control, "a box", None, steps=50, guidance=3.0, seed=0, progress=False)
    sync(device)
    rows.append({"what": "texturing run, SDXL-sized bf16 (50 DDPM steps, guidance 3)", "views": "6",
                 "res": f"{resolution}²", "median_s": time.perf_counter() - t0, "peak_gb": peak_gb(device)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--steps", type=int, default=5, help="timed training steps per CPU row (median reported)")
    ap.add_argument("--resolution", type=int, default=64, help="CPU rows' view side (tiny model)")
    ap.add_argument("--gpu-resolution", type=int, default=768, help="CUDA rows' view side (Step1X-3D: 768)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}\n")
    rows = cpu_rows(args.steps, args.resolution)
    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device here")
        rows += gpu_rows(args.device, args.gpu_resolution)
    base = next(r["median_s"] for r in rows if r["what"].startswith("peer"))
    print("| what | views | res | median s | x coupled peer | peak GB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = "" if r["what"].startswith("texturing") else f"{r['median_s'] / base:.2f}"
        print(f"| {r['what']} | {r['views']} | {r['res']} | {r['median_s']:.3f} | {ratio} | {r['peak_gb']:.2f} |")


if __name__ == "__main__":
    main()
