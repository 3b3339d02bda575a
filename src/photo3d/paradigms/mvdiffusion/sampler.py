"""Multi-view sampling: DDPM on the shifted schedule with classifier-free guidance.

Upstream (``IG2MVSDXLPipeline.__call__``, Step1X-3D defaults): 50 DDPM steps, guidance 3.0 with the
negative prompt "watermark, ugly, deformed, noisy, blurry, low contrast"; the unconditional branch
keeps the geometry condition and gets zeroed reference states (what image dropout trained); the
conditional branch gets the reference image's states. Without a reference image both branches get
zeroed states. Upstream's optional texture synchronisation (UV-space latent merging during the
first half of the steps) is not part of this sampler.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from photo3d.paradigms.mvdiffusion.config import NEGATIVE_PROMPT
from photo3d.paradigms.mvdiffusion.model import MVDiffusionModel


def zeroed(states: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Reference states of "no reference image" (same shapes, zeros)."""
    return {k: torch.zeros_like(v) for k, v in states.items()}


@torch.no_grad()
def generate_views(model: MVDiffusionModel, control: torch.Tensor, prompt: str, reference: torch.Tensor | None = None,
                   steps: int = 50, guidance: float = 3.0, negative_prompt: str = NEGATIVE_PROMPT, seed: int = 0,
                   progress: bool = True) -> torch.Tensor:
    """Generate the ``V`` views of one object.

    Args:
        model: the multi-view model.
        control: ``[V, 6, H, W]`` geometry conditions (:meth:`~.conditions.GeometryMaps.control`).
        prompt: text prompt.
        reference: ``[3, H, W]`` prepared reference image (:func:`~.conditions.prepare_reference`)
            or ``None``.
        steps: DDPM steps (upstream 50).
        guidance: classifier-free guidance scale (1 = conditional only).
        negative_prompt: prompt of the unconditional branch.
        seed: seeds the initial noise and every DDPM step (CPU generator: same result on any device).
        progress: show a tqdm bar.

    Returns:
        ``[V, 3, H, W]`` views in [0, 1] on the model's background (grey).
    """
    dev = model.device
    # a half-precision model (in a fine-tuning run with float32 trained parts) samples under autocast
    mixed = dev.type == "cuda" and model.dtype != torch.float32
    with torch.autocast(dev.type, dtype=model.dtype, enabled=mixed):
        return _sample(model, control, prompt, reference, steps, guidance, negative_prompt, seed, progress)


def _sample(model, control, prompt, reference, steps, guidance, negative_prompt, seed, progress) -> torch.Tensor:
    v, _, h, w = control.shape
    dev = model.device
    gen = torch.Generator().manual_seed(seed)
    sched = type(model.scheduler).from_config(model.scheduler.config)  # own state: set_timesteps mutates
    sched.set_timesteps(steps, device=dev)
    guided = guidance != 1.0
    prompts = [negative_prompt, prompt] if guided else [prompt]
    cond = model.prompt_embeddings(prompts, h, w)
    ref_in = reference[None] if reference is not None else torch.full((1, 3, h, w), 0.5)
    ref_lat = model.encode(ref_in.to(dev), gen)
    states = model.reference_states(ref_lat, {k: x[-1:] for k, x in cond.items()})
    if reference is None:
        states = zeroed(states)
    if guided:
        states = {k: torch.cat([torch.zeros_like(x), x]) for k, x in states.items()}
    feats = model.geometry_features(control)
    if guided:
        feats = [torch.cat([f, f]) for f in feats]
    lat_shape = (v, model.unet.config.in_channels, h // 8, w // 8)
    x = torch.randn(lat_shape, generator=gen).to(dev, torch.float32) * sched.init_noise_sigma
    for t in tqdm(sched.timesteps, desc="multi-view sampling", disable=not progress, leave=False):
        x_in = torch.cat([x, x]) if guided else x
        x_in = sched.scale_model_input(x_in, t)
        tt = torch.full((len(x_in),), int(t), device=dev, dtype=torch.long)
        out = model.predict(x_in, tt, cond, feats, states, num_views=v).float()
        if guided:
            uncond, cnd = out.chunk(2)
            out = uncond + guidance * (cnd - uncond)
        x = sched.step(out, t, x, generator=gen).prev_sample.float()
    return model.decode(x)
