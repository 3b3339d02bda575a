"""The geometry-conditioned multi-view model: SDXL UNet + MV attention + T2I-Adapter + VAE + text.

One object is ``N`` views (6 for the Step1X-3D rig) in one UNet batch, view-minor: ``[B * N, ...]``.
Per denoising call (upstream ``IG2MVSDXLPipeline`` / ``IG2MVSDXLSystem.forward``):

* the geometry condition ``[B * N, 6, H, W]`` goes through the T2I-Adapter once; its four feature
  maps are added inside the UNet's down blocks (``down_intrablock_additional_residuals``);
* the reference image's latents go through the UNet once at t = 0 with the multi-view and
  reference branches off, every self-attention layer caching its input (:meth:`reference_states`);
  the denoising passes attend to those caches in their ``_ref`` branch;
* prompt embeddings and SDXL time ids are shared by the views of an object.

:func:`tiny_model` builds a small random stand-in with the same structure for smoke runs and
tests; :mod:`.weights` loads the real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from photo3d._optional import require
from photo3d.paradigms.mvdiffusion.attention import LAYOUTS, MVLayout, install_mv_attention, mv_processors
from photo3d.paradigms.mvdiffusion.schedule import shifted_ddpm
from photo3d.paradigms.mvdiffusion.text import PromptEncoder, time_ids, tiny_prompt_encoder


@dataclass
class MVDiffusionModel:
    """The networks of the multi-view model and its noise schedule.

    Attributes:
        unet: diffusers ``UNet2DConditionModel`` with :mod:`.attention` processors installed.
        vae: diffusers ``AutoencoderKL`` (frozen).
        adapter: diffusers ``T2IAdapter`` (``full_adapter_xl``, 6 input channels).
        text: frozen prompt encoder.
        scheduler: SNR-shifted ``DDPMScheduler`` (training noise and sampling).
        layout: multi-view attention groups; num_views: views per object.
        description: what these networks are (stand-in flags, files), for records.
    """

    unet: nn.Module
    vae: nn.Module
    adapter: nn.Module
    text: PromptEncoder
    scheduler: object
    layout: MVLayout
    num_views: int = 6
    description: dict = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.unet.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.unet.parameters()).dtype

    def to(self, device=None, dtype: torch.dtype | None = None) -> MVDiffusionModel:
        """Move every network (in place); ``dtype`` applies to UNet and adapter."""
        for m in (self.unet, self.adapter):
            m.to(device) if dtype is None else m.to(device=device, dtype=dtype)
        self.vae.to(device=device)
        for m in self.text.modules:
            m.to(device=device)
        return self

    def mv_attention(self) -> nn.ModuleDict:
        """The ``_mv``/``_ref`` processors as one module (keys: processor names with ':' for '.')."""
        return nn.ModuleDict({n.replace(".", ":"): p for n, p in mv_processors(self.unet).items()})

    # -- images <-> latents ------------------------------------------------------------------
    def _latent_norm(self, like: torch.Tensor) -> tuple[torch.Tensor | float, torch.Tensor | float, float]:
        cfg = self.vae.config
        mean = getattr(cfg, "latents_mean", None)
        std = getattr(cfg, "latents_std", None)
        if mean is not None and std is not None:
            view = lambda v: torch.tensor(v, device=like.device, dtype=like.dtype).view(1, -1, 1, 1)  # noqa: E731
            return view(mean), view(std), cfg.scaling_factor
        return 0.0, 1.0, cfg.scaling_factor

    @torch.no_grad()
    def encode_moments(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled posterior mean and std ``[N, 4, H/8, W/8]`` of ``[N, 3, H, W]`` images in [0, 1]."""
        vae_dtype = next(self.vae.parameters()).dtype
        dist = self.vae.encode((images * 2 - 1).to(self.device, vae_dtype)).latent_dist
        mean, std, scale = self._latent_norm(dist.mean.float())
        return (dist.mean.float() - mean) * scale / std, dist.std.float() * scale / std

    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Scaled latents: a posterior sample (CPU ``generator``) of ``[N, 3, H, W]`` images in [0, 1]."""
        mean, std = self.encode_moments(images)
        return mean + std * torch.randn(mean.shape, generator=generator).to(mean)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents -> ``[N, 3, H, W]`` in [0, 1]; differentiable (the VAE stays frozen).

        Values are clamped to [0, 1] in the forward pass only: the gradient passes the clamp
        unchanged (straight-through), so a loss can pull saturated pixels back into range.
        """
        mean, std, scale = self._latent_norm(latents)
        z = latents * std / scale + mean
        vae_dtype = next(self.vae.parameters()).dtype
        img = (self.vae.decode(z.to(vae_dtype)).sample.float() + 1) / 2
        return img + (img.clamp(0, 1) - img).detach()

    # -- conditioning ------------------------------------------------------------------------
    def prompt_embeddings(self, prompts: list[str], height: int, width: int) -> dict[str, torch.Tensor]:
        """``{"embeds" [B, L, D], "text_embeds" [B, P], "time_ids" [B, 6]}`` on the model's device."""
        emb, pooled = self.text.encode(prompts)
        dev, dt = self.device, self.dtype
        return {"embeds": emb.to(dev, dt), "text_embeds": pooled.to(dev, dt),
                "time_ids": time_ids(height, width, len(prompts), dev).to(dt)}

    def geometry_features(self, control: torch.Tensor) -> list[torch.Tensor]:
        """T2I-Adapter features of ``[B * N, 6, H, W]`` condition maps (four maps, coarse to coarser)."""
        return list(self.adapter(control.to(self.device, next(self.adapter.parameters()).dtype)))

    def reference_states(self, ref_latents: torch.Tensor, cond: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Every self-attention layer's input for the reference latents at t = 0 (no gradient).

        Args:
            ref_latents: ``[B, 4, h, w]`` scaled latents of the reference images.
            cond: :meth:`prompt_embeddings` of the B objects.

        Returns:
            processor name -> ``[B, S, C]``.
        """
        cache: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            self.unet(ref_latents.to(self.device, self.dtype), torch.zeros(len(ref_latents), device=self.device),
                      encoder_hidden_states=cond["embeds"],
                      added_cond_kwargs={"text_embeds": cond["text_embeds"], "time_ids": cond["time_ids"]},
                      cross_attention_kwargs={"cache_hidden_states": cache, "use_mv": False, "use_ref": False},
                      return_dict=False)
        return {k: v.detach() for k, v in cache.items()}

    def predict(self, x_t: torch.Tensor, t: torch.Tensor, cond: dict[str, torch.Tensor],
                features: list[torch.Tensor] | None, ref_states: dict[str, torch.Tensor] | None,
                num_views: int | None = None, mv_scale: float = 1.0, ref_scale: float = 1.0) -> torch.Tensor:
        """The UNet's output (ε, v or x0 per the scheduler's ``prediction_type``) for ``N`` views per object.

        Args:
            x_t: ``[B * N, 4, h, w]`` noisy latents.
            t: ``[B * N]`` timesteps.
            cond: :meth:`prompt_embeddings` of the B objects (repeated over their views here).
            features: :meth:`geometry_features` of the views (``None`` = no geometry).
            ref_states: :meth:`reference_states` of the B objects (``None`` = no reference branch).
            num_views: N (default :attr:`num_views`).
            mv_scale, ref_scale: weights of the multi-view and reference branches.
        """
        n = num_views or self.num_views
        rep = lambda x: x.repeat_interleave(n, dim=0)  # noqa: E731
        kwargs = {"num_views": n, "mv_scale": mv_scale, "ref_scale": ref_scale,
                  "ref_hidden_states": ref_states, "use_ref": ref_states is not None}
        return self.unet(x_t.to(self.dtype), t.to(self.device), encoder_hidden_states=rep(cond["embeds"]),
                         added_cond_kwargs={"text_embeds": rep(cond["text_embeds"]), "time_ids": rep(cond["time_ids"])},
                         # the UNet adds them in place: they must have its dtype (a float32 adapter may
                         # feed a bfloat16 UNet)
                         down_intrablock_additional_residuals=None if features is None else [
                             f.to(self.dtype) for f in features],
                         cross_attention_kwargs=kwargs, return_dict=False)[0]


# The random tiny VAE's posterior means have a std of about 0.2: scaled to about 1, as SDXL's
# 0.13025 does for its VAE; and a posterior log-variance of -12 (std 0.0025).
TINY_LATENT_SCALE = 5.0
TINY_LOGVAR = -12.0


def tiny_model(layout: str | MVLayout = "step1x3d", num_views: int | None = None, shift_scale: float = 8.0,
               shift_mode: str = "interpolated", seed: int = 0) -> MVDiffusionModel:
    """A small random model with SDXL's structure (for smoke runs and tests; labelled a stand-in).

    UNet blocks ``(DownBlock2D, CrossAttnDownBlock2D, CrossAttnDownBlock2D)`` with widths
    (32, 64, 64), an 8x VAE with widths (8, 16, 32, 32), a ``full_adapter_xl`` T2I-Adapter with
    widths (32, 64, 64, 64), two 2-layer CLIP text towers of width 32 with a byte tokenizer. About
    2.8M parameters (UNet 1.9M, adapter 0.6M, VAE 0.25M): a smoke-run model, not a texture model.
    """
    diffusers = require("diffusers", "the multi-view diffusion model")
    layout = LAYOUTS[layout] if isinstance(layout, str) else layout
    num_views = num_views or layout.num_views or 6
    gen_state = torch.get_rng_state()
    torch.manual_seed(seed)
    try:
        text = tiny_prompt_encoder(width=32, pooled=32)
        unet = diffusers.UNet2DConditionModel(
            sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
            block_out_channels=(32, 64, 64),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4, 4), transformer_layers_per_block=(1, 1, 1), cross_attention_dim=64,
            norm_num_groups=8, use_linear_projection=True, addition_embed_type="text_time",
            addition_time_embed_dim=8, projection_class_embeddings_input_dim=32 + 6 * 8)
        vae = diffusers.AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16, 32, 32),
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
            layers_per_block=1, norm_num_groups=8, sample_size=64, scaling_factor=TINY_LATENT_SCALE)
        with torch.no_grad():  # a trained VAE's posterior is nearly deterministic; a random one's is not
            vae.quant_conv.weight[4:] = 0.0
            vae.quant_conv.bias[4:] = TINY_LOGVAR
        adapter = diffusers.T2IAdapter(in_channels=6, channels=(32, 64, 64, 64), num_res_blocks=1,
                                       downscale_factor=16, adapter_type="full_adapter_xl")
    finally:
        torch.set_rng_state(gen_state)
    install_mv_attention(unet, layout, num_views)
    for m in (unet, vae):
        m.requires_grad_(False)
    desc = {"name": "tiny random SDXL-structured multi-view model (stand-in, untrained)", "standin": True,
            "is_paper_model": False, "layout": layout_name(layout), "num_views": num_views,
            "shift_scale": shift_scale, "shift_mode": shift_mode, "text": text.description}
    return MVDiffusionModel(unet, vae, adapter, text, shifted_ddpm(None, shift_scale, shift_mode), layout,
                            num_views, desc)


def layout_name(layout: MVLayout) -> str:
    """The registry name of a layout (or ``"custom"``)."""
    return next((k for k, v in LAYOUTS.items() if v == layout), "custom")
