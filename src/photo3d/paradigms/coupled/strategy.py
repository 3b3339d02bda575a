"""The coupled paradigm (Photo3D §4(a), TRELLIS): one-step x0 estimate -> decode -> render -> L_real.

Per sample and step (spec Appendix B)::

    x0 = latent(asset);  eps ~ N(0, I);  t ~ logit-normal(1, 1) (or uniform)
    x_t = (1 - t) x0 + (sigma_min + (1 - sigma_min) t) eps
    v = flow(x_t, t, cond(I_cond))        # I_cond: one random edited view; zeroed with p = 0.1
    x0_hat = x_t - t v  (paper)  |  eps - v  (released code)
    views = render(decoder(x0_hat), rig cameras)      # compared with the edited views by the loop

The strategy is independent of the network: anything with the :class:`CoupledModel` methods
works (the built-in :class:`ReferenceGenerator`, or :class:`~.trellis_adapter.TrellisGenerator`,
TRELLIS-image-large's stage 2 in plain PyTorch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from photo3d.cameras import Cameras
from photo3d.gaussians.model import Gaussians
from photo3d.paradigms.coupled.config import CoupledConfig
from photo3d.paradigms.coupled.flow import diffuse, estimate_x0, sample_t
from photo3d.paradigms.coupled.reference import VoxelFlow, VoxelGaussianDecoder, surface_latent
from photo3d.gaussians.render import render_gaussian_grid, render_gaussian_rgb
from photo3d.trellis.sampler import guided, sample_flow


class CoupledModel(Protocol):
    """A structured-latent flow generator with a Gaussian decoder."""

    flow: nn.Module
    decoder: nn.Module

    def latent(self, sample: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised clean latent ``x0 [V, C]`` and voxel ``coords [V, 3]`` of a sample."""

    def condition(self, image: torch.Tensor | None) -> Any:
        """Condition from a ``[3, H, W]`` image; ``None`` = the zeroed (dropped) condition."""

    def velocity(self, x_t: torch.Tensor, coords: torch.Tensor, t: float, cond: Any) -> torch.Tensor:
        """``v [V, C]``."""

    def decode(self, x0: torch.Tensor, coords: torch.Tensor) -> Gaussians:
        """Gaussians from a normalised latent (de-normalising inside if needed)."""


class ReferenceGenerator:
    """The built-in small generator (:mod:`.reference`) behind :class:`CoupledModel`."""

    def __init__(self, cfg: CoupledConfig, device: torch.device | str = "cpu") -> None:
        r = cfg.voxel_resolution
        self.resolution = r
        self.flow = VoxelFlow(width=cfg.width, depth=cfg.depth, resolution=r).to(device)
        self.decoder = VoxelGaussianDecoder(k=cfg.gaussians_per_voxel, resolution=r).to(device)
        self.device = torch.device(device)
        self._cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.description = {"name": "photo3d reference voxel flow (untrained unless resumed)",
                            "is_paper_model": False, "voxel_resolution": r, "width": cfg.width,
                            "depth": cfg.depth, "gaussians_per_voxel": cfg.gaussians_per_voxel}

    def latent(self, sample: dict) -> tuple[torch.Tensor, torch.Tensor]:
        sid = sample["id"]
        if sid not in self._cache:
            if sample.get("mesh_path") is None:
                raise ValueError(f"sample {sid}: the reference generator needs {sid}/mesh.obj")
            from photo3d.assets import load_asset

            # Photo3D-MV meshes are already in the TRELLIS world frame: no re-centring (spec §2.3)
            mesh = load_asset(sample["mesh_path"], normalize=False).mesh
            coords, feats = surface_latent(mesh, self.resolution)
            self._cache[sid] = (feats.to(self.device), coords.to(self.device))
        return self._cache[sid]

    def condition(self, image: torch.Tensor | None) -> torch.Tensor:
        return self.flow.encode_condition(image)

    def velocity(self, x_t, coords, t, cond):
        return self.flow(x_t, coords, t, cond)

    def decode(self, x0, coords) -> Gaussians:
        return self.decoder(x0, coords)


@dataclass
class CoupledStrategy:
    """Stateless strategy: holds the networks and options; per-run state is passed in.

    Args:
        model: the generator (:class:`CoupledModel`).
        config: :class:`CoupledConfig`.
        render_kwargs: extra options for :func:`~photo3d.gaussians.render.render_gaussians`.
    """

    model: Any
    config: CoupledConfig = field(default_factory=CoupledConfig)
    render_kwargs: dict = field(default_factory=dict)
    name: str = "coupled"

    def trainable_modules(self) -> dict[str, nn.Module]:
        mods = {"flow": self.model.flow}
        if self.config.train_decoder:
            mods["decoder"] = self.model.decoder
        return mods

    def modules(self) -> dict[str, nn.Module]:
        return {"flow": self.model.flow, "decoder": self.model.decoder}

    def init_state(self, seed: int) -> dict[str, Any]:
        """``{"generator"}``: the CPU generator of t, eps, condition view and CFG dropout."""
        return {"generator": torch.Generator().manual_seed(seed * 7919 + 17)}

    def cameras(self, sample: dict) -> Cameras:
        return sample["cameras"]

    def step(self, batch: list[dict], state: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Render ``x0_hat`` of every sample at its cameras. Returns ``(views, aux)``."""
        gen, cfg = state["generator"], self.config
        views, targets, ts = [], [], []
        for sample in batch:
            x0, coords = self.model.latent(sample)
            t = sample_t(cfg, gen)
            eps = torch.randn(x0.shape, generator=gen).to(x0.device, x0.dtype)
            x_t = diffuse(x0, eps, t, cfg.sigma_min)
            pick = int(torch.randint(len(sample["target"]), (), generator=gen))
            drop = bool(torch.rand((), generator=gen) < cfg.cfg_dropout)
            cond = self.model.condition(None if drop else sample["target"][pick])
            v = self.model.velocity(x_t, coords, t, cond)
            x0_hat = estimate_x0(x_t, eps, v, t, cfg.x0)
            gaussians = self.model.decode(x0_hat, coords)
            views.append(render_gaussian_rgb(gaussians, self.cameras(sample), **self.render_kwargs))
            targets.append(sample["target"].to(views[-1].device))
            ts.append(t)
        return torch.cat(views), {"targets": torch.cat(targets), "t": sum(ts) / len(ts)}

    @torch.no_grad()
    def generate(self, sample: dict, steps: int = 12, cfg_scale: float = 3.0, seed: int = 0) -> Gaussians:
        """Sample the asset from noise conditioned on view 2 (the front), on the sample's voxels.

        Guidance is TRELLIS's ``(1 + s) v_c - s v_u`` with ``s = cfg_scale``; a model with a
        ``sampler`` (:class:`~photo3d.trellis.sampler.SamplerParams`) also brings its guidance
        interval and time rescaling (TRELLIS's), otherwise guidance applies at every step.
        """
        x0, coords = self.model.latent(sample)
        cond = self.model.condition(sample["target"][2])
        uncond = self.model.condition(None)
        params = getattr(self.model, "sampler", None)
        interval = params.cfg_interval if params is not None else (0.0, 1.0)
        rescale = params.rescale_t if params is not None else 1.0

        def velocity(x, t):
            v = self.model.velocity(x, coords, t, cond)
            if cfg_scale == 0 or not interval[0] <= t <= interval[1]:
                return v
            return guided(v, self.model.velocity(x, coords, t, uncond), cfg_scale)

        gen = torch.Generator().manual_seed(seed)
        z = sample_flow(velocity, torch.randn(tuple(x0.shape), generator=gen).to(x0.device), steps, rescale)
        return self.model.decode(z, coords)

    @torch.no_grad()
    def sample_grid(self, sample: dict, resolution: int, steps: int = 12, cfg_scale: float = 3.0,
                    seed: int = 0) -> torch.Tensor:
        """``[3, 2R, 2R]`` rig grid of :meth:`generate`."""
        g = self.generate(sample, steps, cfg_scale, seed)
        return render_gaussian_grid(g.map(lambda x: x.float()), resolution, **self.render_kwargs)
