"""``photo3d texture --model feedforward``: one forward pass gives Gaussians on the mesh surface.

:func:`build_texturer` is the factory the texturing registry calls
(``"feedforward": "photo3d.paradigms.feedforward.texturer:build_texturer"``). The baker then fits
a UV albedo (and a roughness/metallic map from :attr:`GaussiansResult.materials`) so that the
mesh render matches the Gaussian render.
"""

from __future__ import annotations

from pathlib import Path

import torch

from photo3d.paradigms.feedforward.config import FeedForwardConfig
from photo3d.texture.base import GaussiansResult


class FeedForwardTextureModel:
    """A loaded feed-forward texturer behind the ``Texturer`` protocol.

    Args:
        model: the network (:class:`~.model.FeedForwardTexturer`).
        record: what runs (:func:`~.strategy.build_model`).
    """

    name = "feedforward"

    def __init__(self, model, record: dict) -> None:
        self.model = model
        self.record = record

    def texture(self, asset, prompt: str, image: torch.Tensor | None = None,
                seed: int = 0) -> GaussiansResult:
        """Gaussians + materials for a world-frame asset (one forward pass, ``infer_points`` samples).

        Args:
            asset: a :class:`photo3d.assets.Asset` in the world frame (Z up, longest side 1).
            prompt: the text condition.
            image: ignored (TexGaussian is text-conditioned); the record says so when one is given.
            seed: seed of the surface sampling.
        """
        g, materials = self.model.texture([asset.mesh], [prompt or ""], seed)[0]
        paper = bool(self.record.get("is_paper_model", False))
        record = {"paradigm": "feedforward", "network": self.record, "is_paper_model": paper,
                  "standin": not paper, "prompt": prompt, "seed": seed, "gaussians": len(g),
                  "points": self.model.arch.infer_points, "reference_image_ignored": image is not None}
        return GaussiansResult(gaussians=g.detach(), materials=materials.detach(), record=record)


def build_texturer(weights: str, device: str | torch.device = "cpu", **options) -> FeedForwardTextureModel:
    """The feed-forward texturer.

    Args:
        weights: ``"tiny"`` (tiny random model + tiny text tower: a labelled stand-in for smoke
            runs and tests), or a local checkpoint file / folder (TexGaussian's
            ``PBR_model.safetensors``, Photo3D's ``TexGaussian/model.safetensors``, or a
            ``photo3d train feedforward`` checkpoint). A folder may hold the CLIP ViT-L/14 text
            tower in ``text_encoder/``.
        device: where the networks run.
        **options: :class:`~.config.FeedForwardConfig` fields (``normalize``, ``splat_fov_deg``,
            ``infer_points``, ``weights_copy``, ``text_encoder``, ...).

    Returns:
        A texturer whose ``texture(asset, prompt, image, seed)`` gives a :class:`GaussiansResult`.
    """
    from dataclasses import fields

    from photo3d.errors import InputError
    from photo3d.paradigms.feedforward.strategy import build_model

    known = {f.name for f in fields(FeedForwardConfig)} - {"model", "weights"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"feed-forward texturer: unknown option(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(known))}")
    if weights == "tiny":
        cfg = FeedForwardConfig(**{"model": "tiny", "text_encoder": "tiny", **options})
    else:
        folder = Path(weights)
        if folder.is_dir() and (folder / "text_encoder").is_dir() and "text_encoder" not in options:
            options = {**options, "text_encoder": str(folder / "text_encoder")}
        cfg = FeedForwardConfig(**{"model": "texgaussian", **options, "weights": str(weights)})
    model, record = build_model(cfg, device)
    return FeedForwardTextureModel(model, record)
