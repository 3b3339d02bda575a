"""Paradigm (c): geometry-conditioned multi-view diffusion texturing (Step1X-3D texture / MV-Adapter ig2mv).

An SDXL UNet with decoupled multi-view and reference attention (:mod:`.attention`), position +
normal maps from photo3d's rasteriser through a T2I-Adapter (:mod:`.conditions`), a reference
image branch, the Step1X-3D camera rig (:mod:`.rig`) and a shifted-SNR DDPM schedule
(:mod:`.schedule`). :mod:`.strategy` fine-tunes it with L_real (``photo3d train mvdiffusion``);
:mod:`.texturer` generates views of a mesh for the baker (``photo3d texture --model mvdiffusion``).
Real weights load from local files (:mod:`.weights`); ``tiny_model()`` is a random stand-in.
Heavy modules load on first use (the CLI only needs :mod:`.config`).
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.paradigms.mvdiffusion.config import MVDiffusionConfig

_P = "photo3d.paradigms.mvdiffusion."
_LAZY = {
    "MVDiffusionModel": _P + "model", "tiny_model": _P + "model", "MVDiffusionStrategy": _P + "strategy",
    "MVLayout": _P + "attention", "STEP1X_LAYOUT": _P + "attention", "ROW_LAYOUT": _P + "attention",
    "install_mv_attention": _P + "attention", "load_pretrained": _P + "weights", "save_adapter": _P + "weights",
    "generate_views": _P + "sampler", "render_geometry": _P + "conditions", "MODEL_FROM_GRID": _P + "rig",
    "build_texturer": _P + "texturer",
}


def build_mvdiffusion(cfg: MVDiffusionConfig, device="auto", resolution: int | None = None):
    """The strategy with the model ``cfg.model`` names (``"tiny"`` or a local weights folder).

    Args:
        cfg: paradigm options.
        device: where the networks live (``"auto"``: CUDA when available).
        resolution: view side of the model and the targets (pixels, multiple of 16); default: the
            size of the dataset's edited views.

    Returns:
        A :class:`~photo3d.paradigms.mvdiffusion.strategy.MVDiffusionStrategy`.
    """
    import torch

    from photo3d.device import resolve_device
    from photo3d.paradigms.mvdiffusion.strategy import MVDiffusionStrategy, check_resolution

    if resolution is not None:
        check_resolution(resolution)  # before loading any weights
    dev = resolve_device(device)
    if cfg.is_tiny:
        from photo3d.paradigms.mvdiffusion.model import tiny_model

        model = tiny_model(cfg.layout, shift_scale=cfg.shift_scale, shift_mode=cfg.shift_mode).to(dev)
    else:
        from photo3d.paradigms.mvdiffusion.weights import load_pretrained

        # frozen base in bf16 on CUDA (the loop autocasts); trainable parts stay float32
        model = load_pretrained(cfg.model, cfg.adapter, cfg.layout, device=dev,
                                dtype=torch.bfloat16 if dev.type == "cuda" else torch.float32,
                                shift_scale=cfg.shift_scale, shift_mode=cfg.shift_mode)
        model.adapter.float()
        model.mv_attention().float()
    return MVDiffusionStrategy(model, cfg, resolution)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = ["MVDiffusionConfig", "build_mvdiffusion", *_LAZY]
