"""Speed and memory of our TRELLIS networks (random weights at the published sizes).

    python benchmarks/trellis_speed.py                      # CPU, fp32: SLAT flow forward + Gaussian decode, ~20k voxels
    python benchmarks/trellis_speed.py --trellis ~/src/TRELLIS   # + TRELLIS's own classes side by side (CPU)
    python benchmarks/trellis_speed.py --device cuda        # + image-to-3D seconds / peak memory, one fine-tuning step
    python benchmarks/trellis_speed.py --device cuda --weights weights/TRELLIS-image-large   # with the real weights

Prints a markdown table; seconds are medians of ``--repeats`` runs after ``--warmup`` ones. On the CPU
the peer is TRELLIS's own network code with the reference kernels of
``benchmarks/trellis_equivalence.py`` (spconv when importable, an explicit-softmax reference for its
flash-attn-only sparse attention), so it times TRELLIS's Python around those kernels, not
flash-attn. On CUDA: ``image_to_3d`` runs the whole pipeline (25 + 25 steps, guidance, decode) on a
518^2 image with the given weights (random weights at the published sizes when none are given;
peak memory is ``max_memory_allocated``; TRELLIS's README asks for a GPU with >= 16 GB) and
``finetune_step`` is one coupled-paradigm step at batch 1 (one-step x0 estimate, decode, render of
the 4-view rig at 512^2, L_real with the tiny test encoders, backward, AdamW on fp32 masters under
bf16 autocast).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

from photo3d.trellis.presets import DINOV2, DINOV2_TOKENS, TRELLIS_IMAGE_LARGE, preset
from photo3d.trellis.sparse import SparseTensor
from photo3d.trellis.weights import build_network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trellis_equivalence import cpu_cuda_calls, install_reference, shell_voxels, upstream_class  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


WARMUP = [1]  # runs before timing (set by --warmup)


def _time(fn, repeats: int, device: torch.device) -> float:
    for _ in range(WARMUP[0]):  # allocator, kernels, cuDNN/cuBLAS heuristics
        fn()
    _sync(device)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def _cfg(key: str, fp16: bool, preset_name: str = "trellis-image-large") -> dict:
    cfg = preset(preset_name)[key]
    cfg["args"]["use_fp16"] = fp16
    return cfg


def bench_networks(device: torch.device, voxels: torch.Tensor, repeats: int, dtype: torch.dtype,
                   upstream: bool, preset_name: str = "trellis-image-large") -> list[dict]:
    """One SLAT-flow forward and one Gaussian decode (ours, and TRELLIS's classes when ``upstream``)."""
    rows = []
    gen = torch.Generator().manual_seed(0)
    coords = torch.cat([torch.zeros(len(voxels), 1, dtype=torch.int32), voxels], 1)
    feats = torch.randn(len(voxels), 8, generator=gen)
    cond = torch.randn(1, DINOV2_TOKENS[0], DINOV2[preset_name]["hidden_size"], generator=gen)
    t = torch.tensor([630.0])
    for key, what in (("slat_flow_model", "SLAT flow forward"), ("slat_decoder_gs", "Gaussian decode")):
        cfg = _cfg(key, False, preset_name)
        torso = None if dtype == torch.float32 else dtype
        net = build_network(cfg, torso).to(device).eval()
        x = SparseTensor(coords.to(device), feats.to(device))
        if key == "slat_flow_model":
            fn = lambda: net(SparseTensor(x.coords, x.feats), t.to(device), cond.to(device))  # noqa: E731
        else:
            fn = lambda: net(SparseTensor(x.coords, x.feats))  # noqa: E731
        with torch.no_grad():
            sec = _time(fn, repeats, device)
        rows.append({"what": what, "impl": "photo3d.trellis", "device": f"{device.type} {str(dtype)[6:]}",
                     "voxels": len(voxels), "sec": sec, "peak_gb": _peak(device)})
        print(f"  measured: {rows[-1]}", flush=True)
        del net
        if upstream and device.type == "cpu":
            from trellis.modules import sparse as sp

            ref = upstream_class(cfg["name"])(**cfg["args"]).train()  # train(): spconv's CPU path (no fused bias)
            xr = sp.SparseTensor(feats=feats, coords=coords)
            fn = (lambda: ref(xr, t, cond)) if key == "slat_flow_model" else (lambda: ref(xr))
            with torch.no_grad(), cpu_cuda_calls():
                sec_ref = _time(fn, repeats, device)
            rows.append({"what": what, "impl": "TRELLIS classes + reference kernels", "device": "cpu float32",
                         "voxels": len(voxels), "sec": sec_ref, "peak_gb": _peak(device)})
            print(f"  measured: {rows[-1]}", flush=True)
            del ref
    return rows


def bench_image_to_3d(device: torch.device, weights: str, repeats: int, preset_name: str = "trellis-image-large") -> dict:
    """The whole pipeline on an object image (real weights when given, else random at the published sizes)."""
    import tempfile

    import numpy as np
    from PIL import Image

    from photo3d.trellis.pipeline import TrellisPipeline
    from photo3d.trellis.weights import write_random_pipeline

    arr = np.full((600, 600, 3), 255, np.uint8)
    arr[150:450, 200:400] = (170, 80, 50)
    image = Image.fromarray(arr)
    with tempfile.TemporaryDirectory() as tmp:
        folder = weights or write_random_pipeline(Path(tmp), preset_name)
        pipe = TrellisPipeline.from_folder(folder, device)
    _reset_peak(device)
    sec = _time(lambda: pipe.run(image, seed=0, progress=False), repeats, device)
    voxels = pipe.run(image, seed=0, progress=False).info["voxels"]
    return {"what": f"image_to_3d (25+25 steps; {'given' if weights else 'random'} weights)", "impl": "photo3d.trellis",
            "device": f"{device.type} {pipe.description['torso_dtype']}", "voxels": voxels, "sec": sec, "peak_gb": _peak(device)}


def bench_finetune_step(device: torch.device, voxels: torch.Tensor, repeats: int,
                        preset_name: str = "trellis-image-large") -> dict:
    """One coupled-paradigm optimizer step at batch 1 (fp32 masters, bf16 autocast)."""
    from photo3d.cameras import rig_cameras
    from photo3d.encoders import load_encoder
    from photo3d.losses import RealLoss, RealLossConfig
    from photo3d.paradigms.coupled import CoupledConfig
    from photo3d.paradigms.coupled.strategy import CoupledStrategy
    from photo3d.paradigms.coupled.trellis_adapter import TrellisGenerator
    from photo3d.trellis.gs_decoder import RENDER_OPTIONS
    from photo3d.trellis.pipeline import TrellisPipeline
    from photo3d.trellis.presets import SLAT_NORMALIZATION
    from photo3d.trellis.sampler import SamplerParams

    tokens = (DINOV2_TOKENS[0], DINOV2[preset_name]["hidden_size"])

    class _Cond:  # stands in for DINOv2 (frozen, not timed: one forward per step)
        token_shape = tokens

        def __call__(self, images):
            return torch.randn(images.shape[0], *tokens, device=device)

        def zeros(self, b=1):
            return torch.zeros(b, *tokens, device=device)

    models = {}
    for k in TRELLIS_IMAGE_LARGE:  # stage 1 is not used by fine-tuning: built on the meta device
        with torch.device(device if k.startswith("slat") else "meta"):
            models[k] = build_network(_cfg(k, False, preset_name))
    pipe = TrellisPipeline(models, _Cond(), SamplerParams(), SamplerParams(), SLAT_NORMALIZATION, {})
    gen = TrellisGenerator(pipe, grad_checkpointing=True)
    strat = CoupledStrategy(gen, CoupledConfig(cfg_dropout=0.0), dict(RENDER_OPTIONS))
    res = 512 if preset_name == "trellis-image-large" else 32
    loss = RealLoss.from_config(RealLossConfig(match_size=res), load_encoder("tiny-clip", device),
                                load_encoder("tiny-dino", device))
    opt = torch.optim.AdamW(gen.flow.parameters(), lr=1e-5)
    sample = {"id": "bench", "target": torch.rand(4, 3, res, res, device=device), "cameras": rig_cameras(res),
              "slat": {"feats": torch.randn(len(voxels), 8), "coords": voxels.long()}}
    state = strat.init_state(0)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            views, aux = strat.step([sample], state)
        loss(views.float(), aux["targets"].float()).backward()
        opt.step()

    _reset_peak(device)
    sec = _time(step, repeats, device)
    return {"what": f"finetune_step (batch 1, {res}^2 rig)", "impl": "photo3d.trellis",
            "device": f"{device.type} bf16 autocast",
            "voxels": len(voxels), "sec": sec, "peak_gb": _peak(device)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__[__doc__.index("Prints"):])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--voxels", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (0 is fine on a CPU)")
    ap.add_argument("--trellis", type=Path, default=None, help="a checkout of microsoft/TRELLIS (CPU peer)")
    ap.add_argument("--weights", default="", help="a TRELLIS-image-large folder for the CUDA image-to-3D run")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny networks, every row (also the CUDA-only ones) on this device: checks the script runs")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    WARMUP[0] = args.warmup
    device = torch.device(args.device)
    if args.trellis:
        install_reference(args.trellis.expanduser().resolve(), "auto")
    name = "tiny" if args.smoke else "trellis-image-large"
    voxels = shell_voxels(16, 300) if args.smoke else shell_voxels(64, args.voxels)
    rows = bench_networks(device, voxels, args.repeats, torch.float32 if device.type == "cpu" else torch.bfloat16,
                          args.trellis is not None, name)
    if device.type == "cuda" or args.smoke:
        rows.append(bench_image_to_3d(device, "" if args.smoke else args.weights, args.repeats, name))
        rows.append(bench_finetune_step(device, voxels, args.repeats, name))
    print(f"| what | implementation | device | voxels | seconds (median of {args.repeats}) | peak GB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['impl']} | {r['device']} | {r['voxels']} | {r['sec']:.2f} | {r['peak_gb']:.2f} |")
    if len(rows) >= 2 and rows[1]["impl"] != rows[0]["impl"]:
        for a, b in zip(rows[::2], rows[1::2]):
            if a["what"] == b["what"]:
                print(f"{a['what']}: TRELLIS classes / ours = {b['sec'] / a['sec']:.2f}x")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
