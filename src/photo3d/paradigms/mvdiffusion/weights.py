"""Real weights from local files: SDXL base + fp16-fix VAE + a Step1X-3D / MV-Adapter ig2mv adapter.

Expected folder (``--model DIR``; each part may also be given on its own)::

    DIR/stable-diffusion-xl-base-1.0/   huggingface-cli download stabilityai/stable-diffusion-xl-base-1.0
        unet/ text_encoder/ text_encoder_2/ tokenizer/ tokenizer_2/ scheduler/ (vae/)
    DIR/sdxl-vae-fp16-fix/               huggingface-cli download madebyollin/sdxl-vae-fp16-fix
    DIR/step1x-3d-ig2v.safetensors       stepfun-ai/Step1X-3D, Step1X-3D-Texture/step1x-3d-ig2v.safetensors
      or DIR/mvadapter_ig2mv_sdxl.safetensors   huanngzh/mv-adapter

``DIR`` may itself be the SDXL snapshot. Nothing is downloaded: a missing part raises one
:class:`~photo3d.errors.WeightsNotFoundError` line naming it and the command that fetches it.

Adapter file format (upstream ``_save_custom_adapter`` / ``_load_custom_adapter``): the UNet
state-dict entries whose key contains ``_mv`` or ``_ref`` (the attention processors:
``<layer>.attn1.processor.to_{q,k,v}_{mv,ref}.weight`` and ``to_out_{mv,ref}.0.{weight,bias}``),
plus the T2I-Adapter's own state dict (``adapter.conv_in.weight``, ``adapter.body.*``) under
the same top level; upstream loads it into both modules with ``strict=False``. Here every
expected tensor must be present with its shape; anything else is an error naming the first keys.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from photo3d._optional import require
from photo3d.errors import InputError, WeightsNotFoundError
from photo3d.io import atomic_path
from photo3d.paradigms.mvdiffusion.attention import LAYOUTS, MVLayout, install_mv_attention
from photo3d.paradigms.mvdiffusion.model import MVDiffusionModel, layout_name
from photo3d.paradigms.mvdiffusion.schedule import shifted_ddpm
from photo3d.paradigms.mvdiffusion.text import PromptEncoder

BASE_NAMES = ("stable-diffusion-xl-base-1.0", "sdxl-base")
VAE_NAMES = ("sdxl-vae-fp16-fix",)
ADAPTER_NAMES = ("step1x-3d-ig2v.safetensors", "Step1X-3D-Texture/step1x-3d-ig2v.safetensors",
                 "mvadapter_ig2mv_sdxl.safetensors")
FETCH = {
    "base": "huggingface-cli download stabilityai/stable-diffusion-xl-base-1.0 --local-dir DIR/stable-diffusion-xl-base-1.0",
    "vae": "huggingface-cli download madebyollin/sdxl-vae-fp16-fix --local-dir DIR/sdxl-vae-fp16-fix",
    "adapter": "huggingface-cli download stepfun-ai/Step1X-3D Step1X-3D-Texture/step1x-3d-ig2v.safetensors --local-dir DIR",
}
# stabilityai/stable-diffusion-xl-base-1.0 unet/config.json (the architecture fields).
SDXL_UNET_CONFIG = {
    "sample_size": 128, "in_channels": 4, "out_channels": 4, "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280),
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "mid_block_type": "UNetMidBlock2DCrossAttn", "attention_head_dim": (5, 10, 20),
    "transformer_layers_per_block": (1, 2, 10), "cross_attention_dim": 2048, "norm_num_groups": 32,
    "norm_eps": 1e-5, "use_linear_projection": True, "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256, "projection_class_embeddings_input_dim": 2816,
    "flip_sin_to_cos": True, "freq_shift": 0, "act_fn": "silu",
}
# madebyollin/sdxl-vae-fp16-fix config.json (architecture; fp16-safe weights, no upcast needed).
SDXL_VAE_CONFIG = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 2, "norm_num_groups": 32, "sample_size": 512, "scaling_factor": 0.13025,
    "force_upcast": False,
}


def adapter_config(block_out_channels=(320, 640, 1280)) -> dict:
    """The geometry T2I-Adapter of Step1X-3D / MV-Adapter ig2mv for a UNet with these block widths.

    SDXL: ``T2IAdapter(in_channels=6, channels=(320, 640, 1280, 1280), num_res_blocks=2,
    downscale_factor=16, adapter_type="full_adapter_xl")``: its four feature maps match the
    widths and sizes where the UNet adds them (after down block 0, inside blocks 1 and 2, the
    mid block).
    """
    c = tuple(int(x) for x in block_out_channels)
    return {"in_channels": 6, "channels": (*c, c[-1]), "num_res_blocks": 2, "downscale_factor": 16,
            "adapter_type": "full_adapter_xl"}


def _missing(what: str, where: str) -> WeightsNotFoundError:
    return WeightsNotFoundError(f"{what} not found ({where}); fetch it with `{FETCH[what.split()[0]]}` "
                                "or use --model tiny for the random stand-in")


def find_weights(folder: str | os.PathLike, adapter: str | os.PathLike = "") -> dict[str, Path | None]:
    """Locate the three parts in ``folder`` (see the module docstring).

    Returns:
        ``{"base", "vae", "adapter"}`` paths; ``vae`` is the SDXL base's own VAE when no fp16-fix
        copy is there, ``adapter`` is ``None`` for ``adapter="init"`` (train a fresh one).

    Raises:
        WeightsNotFoundError: one line naming the first missing part.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise WeightsNotFoundError(f"{root}: no such weights folder; pass --model tiny for the random "
                                   f"stand-in, or a folder laid out as `{FETCH['base']}`")
    is_sdxl = lambda p: (p / "unet" / "config.json").is_file() and (p / "text_encoder_2").is_dir()  # noqa: E731
    base = next((p for p in [root, *(root / n for n in BASE_NAMES)] if is_sdxl(p)), None)
    if base is None:
        raise _missing("base model (SDXL: unet/, text_encoder(_2)/, tokenizer(_2)/)", f"looked in {root}")
    vae = next((root / n for n in VAE_NAMES if (root / n / "config.json").is_file()), None)
    if vae is None:
        vae = base / "vae" if (base / "vae" / "config.json").is_file() else None
    if vae is None:
        raise _missing("vae (sdxl-vae-fp16-fix)", f"looked in {root}")
    if adapter == "init":
        return {"base": base, "vae": vae, "adapter": None}
    if adapter:
        path = Path(adapter).expanduser()
        if not path.is_file():
            raise _missing("adapter safetensors", f"{path} does not exist")
    else:
        path = next((root / n for n in ADAPTER_NAMES if (root / n).is_file()), None)
        if path is None:
            raise _missing("adapter safetensors (step1x-3d-ig2v / mvadapter_ig2mv_sdxl)",
                           f"looked for {', '.join(ADAPTER_NAMES)} in {root}")
    return {"base": base, "vae": vae, "adapter": path}


def adapter_state_dict(model: MVDiffusionModel) -> dict[str, torch.Tensor]:
    """The model's adapter in the released file layout (see the module docstring)."""
    out = {k: v for k, v in model.unet.state_dict().items() if "_mv" in k or "_ref" in k}
    out.update(model.adapter.state_dict())
    return out


def load_adapter_state(unet, adapter, state: dict[str, torch.Tensor], source: str = "adapter") -> int:
    """Check ``state`` against the expected adapter keys and shapes, then load it.

    Args:
        unet: UNet with :mod:`.attention` processors installed (``meta`` tensors are replaced).
        adapter: the T2I-Adapter.
        state: tensors by released key name.
        source: file name for error messages.

    Returns:
        The number of tensors loaded.

    Raises:
        InputError: missing, unexpected or mis-shaped tensors (one line, first keys named).
    """
    want_unet = {k: v.shape for k, v in unet.state_dict().items() if "_mv" in k or "_ref" in k}
    want_adapter = {k: v.shape for k, v in adapter.state_dict().items()}
    if not want_unet:
        raise InputError("the UNet has no multi-view processors; call install_mv_attention first")
    want = {**want_unet, **want_adapter}
    missing = sorted(set(want) - set(state))
    unexpected = sorted(set(state) - set(want))
    shapes = sorted(k for k in set(want) & set(state) if tuple(state[k].shape) != tuple(want[k]))
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(want)} expected tensors missing (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
    if shapes:
        k = shapes[0]
        problems.append(f"{len(shapes)} with other shapes (e.g. {k}: {tuple(state[k].shape)} vs {tuple(want[k])})")
    if problems:
        raise InputError(f"{source}: not an ig2mv SDXL adapter for this UNet: {'; '.join(problems)}")
    for module, keys in ((unet, want_unet), (adapter, want_adapter)):
        on_meta = next(iter(module.parameters())).is_meta
        sub = {k: state[k] for k in keys}
        result = module.load_state_dict(sub, strict=False, assign=on_meta)
        assert not result.unexpected_keys, result.unexpected_keys  # checked above
    return len(want)


def read_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """All tensors of a ``.safetensors`` file (on CPU)."""
    require("safetensors", "reading adapter weights")
    import safetensors.torch

    return safetensors.torch.load_file(str(path), device="cpu")


def save_tensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> Path:
    """Write tensors as ``.safetensors`` (atomic)."""
    require("safetensors", "writing safetensors files")
    import safetensors.torch

    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        safetensors.torch.save_file(flat, str(tmp), metadata={"format": "pt"})
    return Path(path)


def save_adapter(model: MVDiffusionModel, path: str | os.PathLike) -> Path:
    """Write the adapter as ``.safetensors`` in the released layout (atomic); upstream loads it."""
    return save_tensors(adapter_state_dict(model), path)


def _variant(folder: Path, stem: str) -> str | None:
    """``"fp16"`` when only the fp16 variant of a component's weights is present."""
    plain = any(folder.glob(f"{stem}.safetensors")) or any(folder.glob(f"{stem}.bin"))
    return "fp16" if not plain and any(folder.glob(f"{stem}.fp16.*")) else None


def load_pretrained(folder: str | os.PathLike, adapter: str | os.PathLike = "", layout: str | MVLayout = "step1x3d",
                    num_views: int | None = None, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                    shift_scale: float = 8.0, shift_mode: str = "interpolated") -> MVDiffusionModel:
    """The real multi-view model from local files (nothing is downloaded).

    Args:
        folder: weights folder (see the module docstring).
        adapter: adapter file (default: found in ``folder``); ``"init"`` initialises a fresh one
            from the base attention weights (the start of upstream training).
        layout: multi-view attention groups (``"step1x3d"`` for the released adapters).
        num_views: views per object (default: the layout's, 6).
        device: where the networks go.
        dtype: UNet, adapter and text towers; the VAE stays float32 if its config asks for upcasting.
        shift_scale, shift_mode: noise schedule (see :mod:`.schedule`).
    """
    from photo3d.encoders.registry import from_pretrained  # the one local-weights policy

    diffusers = require("diffusers", "the multi-view diffusion model")
    tr = require("transformers", "SDXL's text towers")
    parts = find_weights(folder, adapter)
    base = parts["base"]
    layout = LAYOUTS[layout] if isinstance(layout, str) else layout
    num_views = num_views or layout.num_views or 6
    unet = from_pretrained(diffusers.UNet2DConditionModel, str(base), "SDXL UNet", subfolder="unet", torch_dtype=dtype,
                           variant=_variant(base / "unet", "diffusion_pytorch_model"))
    vae = from_pretrained(diffusers.AutoencoderKL, str(parts["vae"]), "SDXL VAE",
                          variant=_variant(parts["vae"], "diffusion_pytorch_model"))
    vae.to(torch.float32 if vae.config.force_upcast else dtype)
    towers, toks = [], []
    for sub, cls in (("text_encoder", tr.CLIPTextModel), ("text_encoder_2", tr.CLIPTextModelWithProjection)):
        towers.append(from_pretrained(cls, str(base / sub), f"SDXL {sub}", torch_dtype=dtype,
                                      variant=_variant(base / sub, "model")))
        tok = sub.replace("text_encoder", "tokenizer")
        toks.append(from_pretrained(tr.CLIPTokenizer, str(base / tok), f"SDXL {tok}"))
    text = PromptEncoder(toks, towers, {"name": "SDXL CLIP ViT-L + OpenCLIP bigG text towers", "path": str(base),
                                        "standin": False})
    sched_cfg = diffusers.DDPMScheduler.load_config(base, subfolder="scheduler", local_files_only=True)
    cond = diffusers.T2IAdapter(**adapter_config(unet.config.block_out_channels)).to(dtype)
    install_mv_attention(unet, layout, num_views, init_from_base=parts["adapter"] is None)
    if parts["adapter"] is not None:
        load_adapter_state(unet, cond, read_safetensors(parts["adapter"]), source=str(parts["adapter"]))
    unet.requires_grad_(False)
    vae.requires_grad_(False)
    adapter_name = parts["adapter"].name if parts["adapter"] else ""
    desc = {"name": f"SDXL + ig2mv multi-view adapter ({adapter_name or 'fresh'})", "standin": False,
            "is_paper_model": adapter_name == "step1x-3d-ig2v.safetensors",
            "base": str(base), "vae": str(parts["vae"]),
            "adapter": str(parts["adapter"]) if parts["adapter"] else "initialised from the base attention (untrained)",
            "layout": layout_name(layout), "num_views": num_views, "shift_scale": shift_scale, "shift_mode": shift_mode}
    model = MVDiffusionModel(unet, vae, cond, text, shifted_ddpm(dict(sched_cfg), shift_scale, shift_mode),
                             layout, num_views, desc)
    return model.to(device)


def locate_weights(folder: str | os.PathLike | None = None, adapter: str | os.PathLike = ""):
    """Where SDXL + the Step1X-3D adapter are (nothing loaded): ``folder`` (as :func:`find_weights`
    reads it), else the Hugging Face cache's SDXL base and ``stepfun-ai/Step1X-3D`` snapshots.

    Returns:
        A :class:`~photo3d.encoders.registry.WeightsLocation`; ``where`` is the folder, or the
        SDXL snapshot and the adapter file joined by ``" + "`` when found in the cache.
    """
    from photo3d.encoders.registry import WeightsLocation, locate_weights as locate_known

    name = "sdxl-base + step1x3d-texture"
    if folder is not None:
        try:
            parts = find_weights(folder, adapter)
        except WeightsNotFoundError as exc:
            return WeightsLocation(name, False, None, "path", str(exc))
        return WeightsLocation(name, True, str(parts["base"]), "path", "")
    base, ada = locate_known("sdxl-base"), locate_known("step1x3d-texture")
    if not (base.found and ada.found):
        missing = [loc.how for loc in (base, ada) if not loc.found]
        return WeightsLocation(name, False, None, "hub cache",
                               "; ".join(missing) + " (or pass the folder laid out as this module says)")
    return WeightsLocation(name, True, f"{base.where} + {Path(ada.where) / ADAPTER_NAMES[1]}", "hub cache", "")
