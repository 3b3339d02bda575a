"""The multi-view diffusion paradigm: Photo3D's L_real fine-tuning of a Step1X-3D-style texture model.

Per object and step (Photo3D §4, applied to geometry-conditioned multi-view diffusion)::

    x0  = VAE(views of the asset at the model's 6 cameras)            # cached posterior
    t   ~ U{t_min..t_max} (one per object), eps ~ N(0, I)
    x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) eps                           # the scheduler's own ᾱ
    out = UNet(x_t, t | prompt, reference states, T2I-Adapter(position, normal))
    x̂0  = x0 estimate from out (ε or v, the scheduler's prediction_type)
    views = VAE⁻¹(x̂0) for views 0-3 (frozen decoder, gradient-checkpointed)
    loss  = L_real(views, edited views reprojected onto the model cameras)   # computed by the loop

Only the multi-view/reference attention weights and the T2I-Adapter train (optionally a LoRA of
the base attention); SDXL, the VAE and the text towers stay frozen. What x0 is (``x0_source``):
by default the asset's own render at the model cameras (grey background, the model's training
domain), the counterpart of Photo3D's TRELLIS x0 (the generator's own asset latent) whose
appearance L_real pulls towards the edit; ``"edited"`` uses the reprojected edited colours
instead. The rig mapping is described in :mod:`.targets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from photo3d.assets.mesh import Mesh
from photo3d.bake import project_views
from photo3d.cameras import STEP1X3D_VIEW_WEIGHTS, Cameras, rig_cameras, step1x3d_rig_cameras
from photo3d.errors import InputError
from photo3d.grid import compose_grid
from photo3d.paradigms.mvdiffusion.conditions import GeometryMaps, prepare_reference, render_geometry
from photo3d.paradigms.mvdiffusion.config import MVDiffusionConfig
from photo3d.paradigms.mvdiffusion.model import MVDiffusionModel
from photo3d.paradigms.mvdiffusion.rig import MODEL_FROM_GRID
from photo3d.paradigms.mvdiffusion.sampler import generate_views
from photo3d.paradigms.mvdiffusion.schedule import estimate_x0, sample_timesteps
from photo3d.paradigms.mvdiffusion.targets import ViewTargets, reproject_targets
from photo3d.render import MeshTensors, render_views

BACKGROUND = 0.5  # the model's training background (upstream: gray)
SUPERVISED = list(MODEL_FROM_GRID)  # model views 0-3 in Photo3D grid order


@dataclass
class Prepared:
    """Everything about one sample that does not change between steps (cached)."""

    mesh: Mesh
    geometry: GeometryMaps
    control: torch.Tensor  # [V, 6, R, R]
    targets: ViewTargets  # at the supervised views, grid order
    x0_mean: torch.Tensor  # [V, 4, r, r] scaled posterior mean of the clean views
    x0_std: torch.Tensor
    prompt: str
    references: dict[int, torch.Tensor] = field(default_factory=dict)  # grid view -> [1, 4, r, r] latents


@dataclass
class MVDiffusionStrategy:
    """Stateless strategy over a :class:`~.model.MVDiffusionModel`; per-run state is passed in.

    Args:
        model: the multi-view model (on the run's device).
        config: :class:`~.config.MVDiffusionConfig`.
        resolution: view side of the model and the targets (pixels, multiple of 16); ``None`` =
            the edited views' size of the first sample prepared (the run's ``--resolution``).
    """

    model: MVDiffusionModel
    config: MVDiffusionConfig = field(default_factory=MVDiffusionConfig)
    resolution: int | None = None
    name: str = "mvdiffusion"
    _cache: dict = field(default_factory=dict, repr=False)
    _trainable: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.resolution is not None:
            check_resolution(self.resolution)
        mods = {"mv_attention": self.model.mv_attention()}
        if self.config.train_adapter:
            mods["cond_encoder"] = self.model.adapter
        if self.config.lora_rank > 0:
            mods["lora"] = add_lora(self.model.unet, self.config.lora_rank)
        self._trainable = mods
        if self.config.decoder_checkpointing:
            self.model.vae.enable_gradient_checkpointing()
        if self.config.unet_checkpointing:
            self.model.unet.enable_gradient_checkpointing()

    # -- Paradigm protocol ---------------------------------------------------------------------
    def trainable_modules(self) -> dict[str, nn.Module]:
        return dict(self._trainable)

    def modules(self) -> dict[str, nn.Module]:
        """What checkpoints store: the trainable parts (frozen SDXL is reloaded from its files)."""
        mods = dict(self._trainable)
        mods.setdefault("cond_encoder", self.model.adapter)
        return mods

    def init_state(self, seed: int) -> dict[str, Any]:
        """``{"generator"}``: the CPU generator of timesteps, noise, drops and reference views."""
        return {"generator": torch.Generator().manual_seed(seed * 7919 + 29)}

    def cameras(self, sample: dict) -> Cameras:
        """The model cameras of the supervised views, in grid order (yaw 0, 90, 180, 270)."""
        return step1x3d_rig_cameras(self.resolution)[SUPERVISED]

    def step(self, batch: list[dict], state: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Decode the one-step clean estimate of every object's supervised views. Returns ``(views, aux)``."""
        gen, m = state["generator"], self.model
        preps = [self.prepare(s) for s in batch]
        n_obj, nv = len(preps), m.num_views
        d = self.draw(n_obj, gen)
        t, drop_prompt, drop_image = d["t"], d["drop_prompt"], d["drop_image"]
        x0 = torch.cat([p.x0_mean + p.x0_std * torch.randn(p.x0_mean.shape, generator=gen).to(p.x0_mean) for p in preps])
        eps = torch.randn(x0.shape, generator=gen).to(x0)
        t_views = t.repeat_interleave(nv).to(x0.device)
        x_t = m.scheduler.add_noise(x0, eps, t_views)
        cond = m.prompt_embeddings(["" if d else p.prompt for p, d in zip(preps, drop_prompt)], self.resolution,
                                   self.resolution)
        ref_lat = torch.cat([self._reference(p, s, k) for p, s, k in zip(preps, batch, d["reference"])])
        states = m.reference_states(ref_lat, cond)
        keep = (~drop_image).to(x0.device, states[next(iter(states))].dtype).view(-1, 1, 1)
        states = {k: v * keep for k, v in states.items()}
        feats = m.geometry_features(torch.cat([p.control for p in preps]))
        out = m.predict(x_t, t_views, cond, feats, states, num_views=nv)
        x0_hat = estimate_x0(m.scheduler, x_t, out.float(), t_views)
        pick = torch.tensor([i * nv + v for i in range(n_obj) for v in SUPERVISED], device=x0.device)
        views = m.decode(x0_hat[pick])
        pred, target = self._compose(views, torch.cat([p.targets.images for p in preps]),
                                     torch.cat([p.targets.mask for p in preps]),
                                     torch.cat([p.targets.silhouette for p in preps]))
        top = m.scheduler.config.num_train_timesteps - 1
        return pred, {"targets": target, "t": float(t.float().mean()) / top,
                      "prompt_dropped": float(drop_prompt.float().mean()), "image_dropped": float(drop_image.float().mean())}

    def draw(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor | list[int]]:
        """The per-object random choices of a step: timestep, prompt / image drops, reference view.

        Upstream's ``cond_drop`` (here ``joint_drop``) drops prompt and image together.
        """
        cfg = self.config
        t = sample_timesteps(self.model.scheduler, n, cfg.t_min, cfg.t_max, generator)
        joint = torch.rand(n, generator=generator) < cfg.joint_drop
        drop_prompt = (torch.rand(n, generator=generator) < cfg.prompt_drop) | joint
        drop_image = (torch.rand(n, generator=generator) < cfg.image_drop) | joint
        ref = [int(torch.randint(4, (), generator=generator)) if cfg.reference_view < 0 else cfg.reference_view
               for _ in range(n)]
        return {"t": t, "drop_prompt": drop_prompt, "drop_image": drop_image, "reference": ref}

    @staticmethod
    def _compose(views: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, sil: torch.Tensor):
        """Loss inputs on white: supervised pixels from prediction / target, unsupervised object
        pixels equal (the prediction, without gradient), background white on both."""
        mask, sil = mask.to(views), sil.to(views)
        free = views.detach()
        pred = sil * (mask * views + (1 - mask) * free) + (1 - sil)
        target = sil * (mask * targets.to(views) + (1 - mask) * free) + (1 - sil)
        return pred, target

    def export(self, out_dir) -> dict:
        """``{what: path}``: the trained adapter in the released layout (``step1x-3d-ig2v.safetensors``, loadable
        by upstream and by ``--adapter``) and, with ``lora_rank``, the LoRA in diffusers' format
        (``unet_lora.safetensors``, keys ``unet.<module>.lora_A.weight``: ``load_lora_weights`` reads it)."""
        from pathlib import Path

        from photo3d.paradigms.mvdiffusion.weights import save_adapter, save_tensors

        out = Path(out_dir)
        files = {"adapter": save_adapter(self.model, out / "step1x-3d-ig2v.safetensors")}
        if "lora" in self._trainable:
            from peft.utils import get_peft_model_state_dict

            lora = {f"unet.{k}": v for k, v in get_peft_model_state_dict(self.model.unet).items()}
            files["lora"] = save_tensors(lora, out / "unet_lora.safetensors")
        return files

    # -- per-sample preparation ----------------------------------------------------------------
    def prepare(self, sample: dict) -> Prepared:
        """Geometry, targets, clean latents of a sample (computed once, then cached by id)."""
        sid = sample["id"]
        if sid not in self._cache:
            # rasterising and reprojecting need float32 even inside the loop's bf16 autocast
            with torch.no_grad(), torch.autocast(self.model.device.type, enabled=False):
                self._cache[sid] = self._prepare(sample)
        return self._cache[sid]

    def _prepare(self, sample: dict) -> Prepared:
        from photo3d.assets import load_asset

        sid = sample["id"]
        if sample.get("mesh_path") is None:
            raise InputError(f"sample {sid}: the multi-view paradigm needs {sid}/mesh.obj (or .glb/.ply)")
        if self.resolution is None:
            self.resolution = check_resolution(int(sample["target"].shape[-1]))
        # Photo3D-MV meshes are already in the world frame (TRELLIS frame): no re-normalisation
        mesh = load_asset(sample["mesh_path"], normalize=False).mesh
        mesh_t = MeshTensors.from_mesh(mesh, self.model.device)
        cams = self.model_cameras()
        geo = render_geometry(mesh_t, cams)
        edited = sample["target"]
        grid_cams = sample["cameras"] if sample.get("cameras") is not None else rig_cameras(edited.shape[-1])
        sup = _subset(geo, SUPERVISED)
        targets = reproject_targets(mesh, sup, edited, grid_cams, min_coverage=self.config.min_coverage)
        own = render_views(mesh_t, cams, background=(BACKGROUND,) * 3, ssaa=2).rgb
        if self.config.x0_source == "edited":
            m = targets.mask.float()
            own = own.clone()
            own[SUPERVISED] = targets.images * m + own[SUPERVISED] * (1 - m)
        mean, std = self.model.encode_moments(own)
        return Prepared(mesh, geo, geo.control(), targets, mean, std, sample.get("prompt") or "")

    def model_cameras(self) -> Cameras:
        """The model's views: the Step1X-3D rig at :attr:`resolution` (first ``num_views``)."""
        return step1x3d_rig_cameras(self.resolution)[: self.model.num_views]

    def _reference(self, prep: Prepared, sample: dict, view: int) -> torch.Tensor:
        if view not in prep.references:
            img = prepare_reference(sample["target"][view], self.resolution, background=BACKGROUND)
            mean, _ = self.model.encode_moments(img[None].to(self.model.device))
            prep.references[view] = mean
        return prep.references[view]

    # -- samples ---------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, sample: dict, steps: int = 50, cfg_scale: float = 3.0, seed: int = 0) -> torch.Tensor:
        """The 6 views of a sample generated from noise (reference: edited grid view 2, the front)."""
        prep = self.prepare(sample)
        ref = prepare_reference(sample["target"][2], self.resolution, background=BACKGROUND)
        return generate_views(self.model, prep.control, prep.prompt, ref.to(self.model.device), steps=steps,
                              guidance=cfg_scale,
                              negative_prompt=self.config.negative_prompt, seed=seed)

    @torch.no_grad()
    def sample_grid(self, sample: dict, resolution: int, steps: int = 50, cfg_scale: float = 3.0,
                    seed: int = 0) -> torch.Tensor:
        """``[3, 2R, 2R]`` Photo3D rig grid: the generated views reprojected onto the rig's cameras
        (the baker's blending and Step1X-3D's view weights, at the rig's pixels instead of texels)."""
        prep = self.prepare(sample)
        views = self.generate(sample, steps, cfg_scale, seed)
        mask = prep.geometry.mask.float()
        views = views * mask + (1 - mask)  # white background, as the baker expects
        geo = render_geometry(MeshTensors.from_mesh(prep.mesh, views.device), rig_cameras(resolution))
        pts, nrm = geo.surface()
        col, w = project_views(prep.mesh, pts, nrm, views, self.model_cameras(),
                               STEP1X3D_VIEW_WEIGHTS[: len(views)])
        return compose_grid(geo.paint(torch.where(w[:, None] > 0, col, torch.ones_like(col))))


def check_resolution(resolution: int) -> int:
    """``resolution`` if the model can generate views of that side, else a one-line :class:`InputError`."""
    if resolution % 16:
        raise InputError(f"the multi-view model needs views whose side is a multiple of 16 (the adapter "
                         f"downsamples 16x), got {resolution}; pass e.g. --resolution 64 or 768")
    return resolution


def _subset(geo: GeometryMaps, idx: list[int]) -> GeometryMaps:
    return GeometryMaps(geo.position[idx], geo.normal[idx], geo.mask[idx], geo.depth[idx])


def add_lora(unet, rank: int) -> nn.Module:
    """A LoRA of ``rank`` on the base UNet's attention projections (peft); returns its parameters' modules."""
    from photo3d._optional import require

    peft = require("peft", "LoRA fine-tuning")
    unet.add_adapter(peft.LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                     target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = {n.replace(".", ":"): m for n, m in unet.named_modules() if n.endswith(("lora_A", "lora_B"))}
    return nn.ModuleDict(layers)
