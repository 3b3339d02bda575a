"""TRELLIS-image-large's SLAT flow model + Gaussian decoder as a :class:`CoupledModel` (no ``trellis`` package).

The networks are :mod:`photo3d.trellis`'s plain-PyTorch ones, loaded from a local
TRELLIS-image-large folder (or Photo3D's fine-tuned stage 2 on top, or ``"tiny"`` random weights).
What fine-tuning needs, and how it is done here:

* **fp32 master weights**: the fp16 checkpoints are loaded into fp32 networks; the training loop
  runs them under bf16 autocast on CUDA, so AdamW updates fp32 parameters.
* **Condition**: one edited view, matted on its white background, cropped to the object x1.2 on
  black at 518^2 (TRELLIS's preprocessing) and encoded by DINOv2; the dropped (CFG) condition is
  zeros of DINOv2's token shape, known from its config before any image is seen.
* **Latents**: ``{id}/slat.npz`` (un-normalised ``feats [N, 8]``, ``coords [N, 3]`` on 64^3, what
  ``photo3d generate`` and the builder write) is normalised with the pipeline's SLAT statistics.
  A sample with only a mesh gets its voxels from the mesh surface and a latent sampled by the SLAT
  flow conditioned on the grid's front view (yaw 180), cached for the run.
* **Decoding**: de-normalised latents -> Gaussians with colours clamped at 0, as TRELLIS's
  rasteriser does; render with TRELLIS's 0.1 px anti-aliased filter (:func:`build_coupled` sets it).
* **Sampling** (final samples): TRELLIS's SLAT sampler settings from ``pipeline.json``, guidance
  ``(1 + s) v_c - s v_u`` inside the guidance interval, rescaled time steps.
"""

from __future__ import annotations

import torch
from torch import Tensor

from photo3d.gaussians.model import Gaussians
from photo3d.trellis.gs_decoder import clamp_colors
from photo3d.trellis.sparse import SparseTensor

FRONT_VIEW = 2  # grid order: yaw 0, 90, 180 (the front), 270


class TrellisGenerator:
    """The stage-2 networks of a :class:`~photo3d.trellis.pipeline.TrellisPipeline` for fine-tuning.

    Args:
        pipeline: the loaded pipeline (networks in fp32 for training).
        latent_steps: SLAT sampler steps for samples without ``slat.npz``.
        grad_checkpointing: recompute transformer blocks in the backward pass (saves memory).
    """

    def __init__(self, pipeline, latent_steps: int = 12, grad_checkpointing: bool = False) -> None:
        self.pipeline = pipeline
        self.flow = pipeline.models["slat_flow_model"]
        self.decoder = pipeline.models["slat_decoder_gs"]
        self.device = pipeline.device
        self.mean, self.std = pipeline.mean, pipeline.std
        self.conditioner = pipeline.conditioner
        self.sampler = pipeline.slat_sampler
        self.latent_steps = latent_steps
        for block in [*self.flow.blocks, *self.decoder.blocks]:
            block.use_checkpoint = grad_checkpointing
        self._latents: dict[str, tuple[Tensor, Tensor]] = {}
        desc = pipeline.description
        self.description = {"name": "TRELLIS-image-large SLAT flow + Gaussian decoder (photo3d.trellis, plain PyTorch)",
                            "is_paper_model": bool(desc.get("is_paper_model")), "weights": desc.get("weights"),
                            "note": desc.get("note"), "conditioner": desc.get("conditioner"),
                            "photo3d_checkpoint": desc.get("photo3d_checkpoint"), "master_weights": "fp32"}

    @classmethod
    def from_settings(cls, path: str, device: torch.device | str = "cpu", checkpoint: str = "",
                      latent_steps: int = 12, grad_checkpointing: bool = False) -> TrellisGenerator:
        """Load from a TRELLIS-image-large folder (``"tiny"``: random stand-in weights), fp32 networks."""
        from photo3d.errors import InputError
        from photo3d.trellis.pipeline import load_pipeline

        if not path:
            raise InputError("--generator trellis needs --trellis-path: a local TRELLIS-image-large folder "
                             "(huggingface-cli download microsoft/TRELLIS-image-large --local-dir DIR) or 'tiny'")
        return cls(load_pipeline(path, device, torch.float32, checkpoint or None), latent_steps, grad_checkpointing)

    def condition(self, image: Tensor | None) -> Tensor:
        """``[1, T, C]`` DINOv2 tokens of one view ``[3, H, W]`` on white; ``None`` -> zeros (CFG dropout)."""
        from photo3d.trellis.conditioning import view_condition

        if image is None:
            return self.conditioner.zeros(1)
        with torch.no_grad():
            return self.conditioner(view_condition(image)[None].to(self.device))

    def latent(self, sample: dict) -> tuple[Tensor, Tensor]:
        """Normalised ``x0 [N, 8]`` and ``coords [N, 3]`` of a sample (see the module docstring)."""
        slat = sample.get("slat")
        if slat is not None and slat.get("coords") is not None:
            feats = slat["feats"].to(self.device, torch.float32)
            return (feats - self.mean) / self.std, slat["coords"].to(self.device)
        sid = sample["id"]
        if sid not in self._latents:
            self._latents[sid] = self._sample_latent(sample)
        return self._latents[sid]

    def _sample_latent(self, sample: dict) -> tuple[Tensor, Tensor]:
        from photo3d.assets import load_asset
        from photo3d.paradigms.coupled.reference import surface_latent
        from photo3d.trellis.sampler import SamplerParams

        if sample.get("mesh_path") is None:
            raise ValueError(f"sample {sample['id']}: the TRELLIS generator needs {sample['id']}/slat.npz or a mesh")
        mesh = load_asset(sample["mesh_path"], normalize=False).mesh  # Photo3D-MV meshes are in the TRELLIS frame
        coords, _ = surface_latent(mesh, self.flow.resolution, n_points=200_000)
        coords = coords.to(self.device)
        cond = self.condition(sample["target"][FRONT_VIEW])
        params = SamplerParams(self.latent_steps, self.sampler.cfg_strength, self.sampler.cfg_interval,
                               self.sampler.rescale_t)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            slat = self.pipeline.sample_slat(cond, coords, gen, params, progress=False)
        return ((slat - self.mean) / self.std).float(), coords

    def velocity(self, x_t: Tensor, coords: Tensor, t: float, cond: Tensor) -> Tensor:
        """``v [N, 8]`` at flow time ``t`` (the network sees ``1000 t``)."""
        x = SparseTensor.from_batches([coords], [x_t])
        t_in = torch.full((1,), 1000.0 * t, device=x_t.device)
        return self.flow(x, t_in, cond).feats

    def decode(self, x0: Tensor, coords: Tensor) -> Gaussians:
        """Gaussians of a normalised latent, colours clamped at 0 like the rasteriser."""
        slat = x0 * self.std.to(x0.dtype) + self.mean.to(x0.dtype)
        return clamp_colors(self.decoder(SparseTensor.from_batches([coords], [slat]))[0])
