"""The feed-forward paradigm (Photo3D §4(b), TexGaussian) as a training strategy.

Per sample and step (the Photo3D release's ``train_from_grid.py``, with one camera model)::

    points, normals = sample_surface(mesh, 100k, seed from the run's generator)   # fresh each step
    octree = Octree(depth 8, full depth 4) over the network frame (see .octree)
    gaussians = head(unet(ND features, octree, clip_text_tokens(prompt)))         # one per leaf
    views = render(gaussians, the sample's rig cameras)    # compared with the edited views by the loop

The whole U-Net is trained; the CLIP text tower is frozen and its tokens are cached per prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from photo3d.cameras import Cameras
from photo3d.gaussians.model import Gaussians
from photo3d.paradigms.feedforward.config import FeedForwardConfig
from photo3d.paradigms.feedforward.model import FeedForwardTexturer, init_untrained_head
from photo3d.gaussians.render import render_gaussian_grid, render_gaussian_rgb

EXPORT_NAME = "texgaussian_unet.safetensors"  # model.* + ema_model.*, as TexGaussian's checkpoints


def build_model(cfg: FeedForwardConfig, device: str | torch.device = "cpu",
                text: nn.Module | None = None) -> tuple[FeedForwardTexturer, dict]:
    """The network with its text tower and weights, plus a JSON-able record of what runs.

    Args:
        cfg: options; ``cfg.weights`` empty = random weights (:func:`~.model.init_untrained_head`).
        device: where the networks live.
        text: an already built text tower (:class:`~.text.CLIPTextTokens`) instead of
            ``cfg.text_encoder``.

    Returns:
        ``(model, record)``; ``record["is_paper_model"]`` is True only with released weights
        and CLIP ViT-L/14.
    """
    from photo3d.paradigms.feedforward.checkpoint import load_unet_weights
    from photo3d.paradigms.feedforward.text import load_text_encoder

    if text is None:
        tiny_default = cfg.model == "tiny" and cfg.text_encoder == FeedForwardConfig.text_encoder
        text = load_text_encoder("tiny" if tiny_default else cfg.text_encoder, device)
    model = FeedForwardTexturer(cfg, text).to(device)
    arch = model.arch
    params = sum(p.numel() for p in model.unet.parameters()) / 1e6
    record = {"name": f"TexGaussian octree U-Net ({cfg.model}, {params:.1f}M)", "depth": arch.depth,
              "full_depth": arch.full_depth, "train_points": arch.train_points, "infer_points": arch.infer_points,
              "normalize": cfg.normalize, "splat_multiplier": round(model.k, 6), "text_encoder": text.describe()}
    if cfg.weights:
        report = load_unet_weights(model.unet, cfg.weights, cfg.weights_copy)
        record.update(weights=report.to_dict(), weights_line=str(report),
                      is_paper_model=cfg.model == "texgaussian" and text.is_paper_model)
    else:
        init_untrained_head(model.unet, arch.depth)
        record.update(weights=None, is_paper_model=False,
                      note="random weights (untrained): a stand-in that exercises the path, not TexGaussian")
    return model, record


@dataclass
class FeedForwardStrategy:
    """Stateless strategy over a :class:`~.model.FeedForwardTexturer`; run state is passed in.

    Args:
        model: the network (U-Net + head, text tower beside it).
        config: :class:`FeedForwardConfig`.
        render_kwargs: extra options for :func:`~photo3d.gaussians.render.render_gaussians`.
    """

    model: FeedForwardTexturer
    config: FeedForwardConfig = field(default_factory=FeedForwardConfig)
    render_kwargs: dict = field(default_factory=dict)
    description: dict = field(default_factory=dict)
    name: str = "feedforward"

    def __post_init__(self) -> None:
        self._meshes: dict[str, Any] = {}
        self._tokens: dict[str, torch.Tensor] = {}

    def trainable_modules(self) -> dict[str, nn.Module]:
        return {"unet": self.model.unet}

    def modules(self) -> dict[str, nn.Module]:
        return {"unet": self.model.unet}

    def init_state(self, seed: int) -> dict[str, Any]:
        """``{"generator"}``: CPU generator of the point-sampling seeds and the prompt dropout."""
        return {"generator": torch.Generator().manual_seed(seed * 7919 + 29)}

    def cameras(self, sample: dict) -> Cameras:
        return sample["cameras"]

    def mesh(self, sample: dict):
        """The sample's mesh (world frame, as Photo3D-MV stores it; cached)."""
        sid = sample["id"]
        if sid not in self._meshes:
            if sample.get("mesh_path") is None:
                raise ValueError(f"sample {sid}: the feed-forward paradigm needs {sid}/mesh.obj")
            from photo3d.assets import load_asset

            self._meshes[sid] = load_asset(sample["mesh_path"], normalize=False).mesh
        return self._meshes[sid]

    def context(self, prompts: list[str]) -> torch.Tensor:
        """``[B, 77, D]`` frozen text tokens, cached per prompt."""
        for p in prompts:
            if p not in self._tokens:
                self._tokens[p] = self.model.text_encoder([p])[0]
        return torch.stack([self._tokens[p] for p in prompts])

    def gaussians(self, batch: list[dict], state: dict[str, Any]) -> list[tuple[Gaussians, torch.Tensor]]:
        """Per sample ``(gaussians, materials)`` for a training step (fresh seeded points)."""
        gen = state["generator"]
        seeds = [int(torch.randint(0, 2**31 - 1, (), generator=gen)) for _ in batch]
        drop = [bool(torch.rand((), generator=gen) < self.config.text_dropout) for _ in batch]
        prompts = ["" if d else (s.get("prompt") or "") for s, d in zip(batch, drop)]
        octrees = self.model.octrees([self.mesh(s) for s in batch], self.model.arch.train_points, seeds)
        return self.model(octrees, self.context(prompts))

    def step(self, batch: list[dict], state: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Render every sample's Gaussians at its cameras. Returns ``(views, aux)``."""
        views, targets, counts = [], [], []
        for sample, (g, _materials) in zip(batch, self.gaussians(batch, state)):
            views.append(render_gaussian_rgb(g, self.cameras(sample), **self.render_kwargs))
            targets.append(sample["target"].to(views[-1].device))
            counts.append(len(g))
        return torch.cat(views), {"targets": torch.cat(targets), "gaussians": sum(counts) / len(counts)}

    @torch.no_grad()
    def generate(self, sample: dict, seed: int = 0) -> tuple[Gaussians, torch.Tensor]:
        """Inference on the sample's mesh and prompt (``infer_points`` samples)."""
        return self.model.texture([self.mesh(sample)], [sample.get("prompt") or ""], seed)[0]

    @torch.no_grad()
    def sample_grid(self, sample: dict, resolution: int, steps: int = 0, cfg_scale: float = 1.0,
                    seed: int = 0) -> torch.Tensor:
        """``[3, 2R, 2R]`` rig grid of :meth:`generate` (``steps``/``cfg_scale``: unused, one pass)."""
        g, _ = self.generate(sample, seed)
        return render_gaussian_grid(g.map(lambda x: x.float()), resolution, **self.render_kwargs)

    def export(self, out_dir) -> dict:
        """After training: ``OUT/texgaussian_unet.safetensors``, the run in the released layout."""
        from photo3d.paradigms.feedforward.checkpoint import export_released_layout
        from photo3d.train.checkpoint import LATEST

        out = export_released_layout(Path(out_dir) / "checkpoints" / LATEST, Path(out_dir) / EXPORT_NAME)
        return {"unet": str(out)}


def build_feedforward(cfg: FeedForwardConfig, device: str | torch.device = "cpu",
                      text: nn.Module | None = None, **render_kwargs) -> FeedForwardStrategy:
    """The feed-forward strategy with its network built and weights loaded (:func:`build_model`)."""
    model, record = build_model(cfg, device, text)
    return FeedForwardStrategy(model, cfg, render_kwargs, description=record)
