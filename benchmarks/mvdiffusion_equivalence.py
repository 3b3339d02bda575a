"""Our multi-view attention and noise schedule against a checkout of Step1X-3D (or MV-Adapter).

    python benchmarks/mvdiffusion_equivalence.py --upstream PATH/TO/Step1X-3D
    python benchmarks/mvdiffusion_equivalence.py --upstream PATH/TO/MV-Adapter --package mvadapter

Needs ``einops`` (upstream imports it). Nothing of upstream is copied: its two modules are imported
from your checkout. Checks, on a small random SDXL-structured UNet with 6 views:

1. key names: upstream's ``DecoupledMVRowColSelfAttnProcessor2_0`` installed by its own
   ``set_unet_2d_condition_attn_processor`` gives a UNet state dict that loads *strictly* into
   ours and back (so released adapter files load unchanged);
2. outputs: with the same (random, non-zero) weights, the reference pass (t = 0, cached hidden
   states) and the multi-view + reference denoising pass agree;
3. the shifted-SNR schedule: upstream ``ShiftSNRScheduler(interpolated, 8)`` vs ours, ``ᾱ_t``.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import sys
import types
from pathlib import Path

import torch


def _load_module(name: str, path: Path, package: str | None = None):
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=None)
    mod = importlib.util.module_from_spec(spec)
    if package:
        mod.__package__ = package
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def upstream_modules(root: Path, package: str):
    """Upstream's attention-processor and shifted-SNR modules, without importing its package."""
    base = root / package
    if not (base / "models" / "attention_processor.py").is_file():
        raise SystemExit(f"{base}/models/attention_processor.py not found: pass --upstream CHECKOUT (--package NAME)")
    attn = _load_module("_upstream_attention_processor", base / "models" / "attention_processor.py")
    pkg = types.ModuleType("_upstream_schedulers")
    pkg.__path__ = [str(base / "schedulers")]
    sys.modules["_upstream_schedulers"] = pkg
    _load_module("_upstream_schedulers.scheduler_utils", base / "schedulers" / "scheduler_utils.py", "_upstream_schedulers")
    shift = _load_module("_upstream_schedulers.scheduling_shift_snr", base / "schedulers" / "scheduling_shift_snr.py",
                         "_upstream_schedulers")
    return attn, shift


def small_unet():
    import diffusers

    torch.manual_seed(0)
    return diffusers.UNet2DConditionModel(
        sample_size=8, layers_per_block=1, block_out_channels=(32, 64, 64), norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4, 4),
        cross_attention_dim=32, use_linear_projection=True).double()


@torch.no_grad()
def compare_attention(attn_mod) -> list[tuple[str, str]]:
    from photo3d.paradigms.mvdiffusion.attention import STEP1X_LAYOUT, install_mv_attention

    ours = small_unet()
    theirs = copy.deepcopy(ours)
    install_mv_attention(ours, STEP1X_LAYOUT, 6)
    proc = attn_mod.DecoupledMVRowColSelfAttnProcessor2_0
    attn_mod.set_unet_2d_condition_attn_processor(
        theirs,
        set_self_attn_proc_func=lambda name, hs, cad, ap: proc(query_dim=hs, inner_dim=hs, num_views=6, name=name,
                                                               use_mv=True, use_ref=True),
        set_cross_attn_proc_func=lambda name, hs, cad, ap: proc(query_dim=hs, inner_dim=hs, num_views=6, name=name,
                                                                use_mv=False, use_ref=False))
    theirs.double()
    for k, v in ours.state_dict().items():  # as if trained: random extra projections, non-zero outputs
        if "_mv" in k or "_ref" in k:
            v.normal_(0, 0.05)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    rows = [("state dict keys (strict load both ways)", f"{len(ours.state_dict())} tensors, identical")]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 4, 8, 8, generator=g, dtype=torch.float64)
    ref = torch.randn(1, 4, 8, 8, generator=g, dtype=torch.float64)
    ctx = torch.randn(1, 7, 32, generator=g, dtype=torch.float64)
    caches = []
    for unet in (ours, theirs):
        cache = {}
        unet(ref, torch.zeros(1), encoder_hidden_states=ctx,
             cross_attention_kwargs={"cache_hidden_states": cache, "use_mv": False, "use_ref": False})
        caches.append(cache)
    diff = max(float((caches[0][k] - caches[1][k]).abs().max()) for k in caches[0])
    rows.append(("reference pass: cached hidden states, max |diff|", f"{diff:.2e} ({len(caches[0])} layers)"))
    outs = []
    for unet, cache, per_view in ((ours, caches[0], False), (theirs, caches[1], True)):
        states = {k: v.repeat_interleave(6, 0) for k, v in cache.items()} if per_view else cache
        outs.append(unet(x, torch.full((6,), 500), encoder_hidden_states=ctx.repeat(6, 1, 1),
                         cross_attention_kwargs={"ref_hidden_states": states, "num_views": 6}).sample)
    off = ours(x, torch.full((6,), 500), encoder_hidden_states=ctx.repeat(6, 1, 1),
               cross_attention_kwargs={"use_mv": False, "use_ref": False}).sample
    rows.append(("multi-view + reference pass, max |diff| (float64)", f"{float((outs[0] - outs[1]).abs().max()):.2e}"
                 f" (the two branches change the output by {float((outs[0] - off).abs().mean()):.2e} on average)"))
    return rows


def compare_schedule(shift_mod) -> list[tuple[str, str]]:
    import diffusers

    from photo3d.paradigms.mvdiffusion.schedule import SDXL_SCHEDULE, shifted_ddpm

    rows = []
    for mode in ("interpolated", "default"):
        theirs = shift_mod.ShiftSNRScheduler.from_scheduler(diffusers.DDPMScheduler.from_config(SDXL_SCHEDULE),
                                                            shift_mode=mode, shift_scale=8.0,
                                                            scheduler_class=diffusers.DDPMScheduler)
        ours = shifted_ddpm(SDXL_SCHEDULE, 8.0, mode)
        d = float((theirs.alphas_cumprod.double() - ours.alphas_cumprod.double()).abs().max())
        rows.append((f"shifted SNR ({mode}, scale 8): alphas_cumprod max |diff|", f"{d:.2e}"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, type=Path, help="checkout of stepfun-ai/Step1X-3D or huanngzh/MV-Adapter")
    ap.add_argument("--package", default="step1x3d_texture", help="step1x3d_texture (Step1X-3D) or mvadapter")
    args = ap.parse_args()
    attn, shift = upstream_modules(args.upstream, args.package)
    rows = compare_attention(attn) + compare_schedule(shift)
    print(f"upstream: {args.upstream} ({args.package})\n")
    print("| check | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
