"""CLIP metrics: text-image score against the prompt, image-image fidelity against the input image.

The paper's "CLIP" fidelity column compares multi-view renders with the input image; the CLIP
variant is not stated (spec §7.14). We use ``transformers.CLIPModel`` (both towers) from **local**
weights only, loaded like every encoder (:func:`photo3d.encoders.registry.from_pretrained`):
``clip-vit-b32`` = ``$PHOTO3D_CLIP`` (former name ``$PHOTO3D_CLIP_MODEL``, still read) or
``openai/clip-vit-base-patch32`` from the hub cache, or ``--clip-model`` (a folder or cached hub
id). Nothing is downloaded; without weights both metrics are reported unavailable with the
reason, never as a number.

Definitions (cosine similarity, not the x100 "CLIPScore" scaling):

* ``clip_image``: mean over all views of cos(E_img(view), E_img(reference image)).
* ``clip_text``:  mean over all views of cos(E_img(view), E_txt(prompt)).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from photo3d._optional import require
from photo3d.encoders.base import CLIP_MEAN, CLIP_STD
from photo3d.errors import MissingDependencyError, WeightsNotFoundError
from photo3d.eval.metrics.base import EvalItem, Metric, unavailable

DEFAULT_CLIP = "clip-vit-b32"  # the encoders' name: openai/clip-vit-base-patch32, or $PHOTO3D_CLIP


class ClipScorer:
    """Both CLIP towers behind two methods; images in [0, 1].

    Args:
        model: a ``transformers.CLIPModel`` (or anything with ``get_image_features`` /
            ``get_text_features``).
        tokenize: ``list[str] -> dict`` of tensors accepted by ``get_text_features``.
        name: what ran, recorded in the results.
    """

    def __init__(self, model, tokenize: Callable[[list[str]], dict], name: str) -> None:
        self.model = model.eval()
        self.tokenize = tokenize
        self.name = name
        self.image_size = int(model.config.vision_config.image_size)

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None) -> "ClipScorer":
        """Load local CLIP weights (``clip-vit-b32``: ``$PHOTO3D_CLIP`` or the hub cache) through the
        encoders' weights policy; :class:`WeightsNotFoundError` when they are not on disk."""
        transformers = require("transformers", "the CLIP metrics")
        from photo3d.encoders.registry import from_pretrained, weights_source

        name = name_or_path or DEFAULT_CLIP
        model = from_pretrained(transformers.CLIPModel, name, "CLIP")
        tok = from_pretrained(transformers.CLIPTokenizer, name, "CLIP")
        return cls(
            model,
            lambda texts: tok(texts, padding=True, truncation=True, return_tensors="pt"),
            f"transformers CLIPModel {weights_source(name)}",
        )

    def _preprocess(self, images: torch.Tensor) -> torch.Tensor:
        # CLIP's own preprocessing: shorter side to image_size (bicubic), centre crop, normalise.
        h, w = images.shape[-2:]
        s = self.image_size / min(h, w)
        x = F.interpolate(
            images.float(),
            size=(max(self.image_size, round(h * s)), max(self.image_size, round(w * s))),
            mode="bicubic",
            align_corners=False,
            antialias=True,
        ).clamp(0, 1)
        top, left = (x.shape[-2] - self.image_size) // 2, (x.shape[-1] - self.image_size) // 2
        x = x[..., top : top + self.image_size, left : left + self.image_size]
        mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
        return (x - mean) / std

    @torch.no_grad()
    def image_embeddings(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` in [0, 1] -> ``[B, D]`` unit-norm image embeddings."""
        out = self.model.get_image_features(pixel_values=self._preprocess(images))
        out = getattr(out, "pooler_output", out)
        return F.normalize(out.float(), dim=-1)

    @torch.no_grad()
    def text_embeddings(self, texts: list[str]) -> torch.Tensor:
        """``B`` strings -> ``[B, D]`` unit-norm text embeddings."""
        out = self.model.get_text_features(**self.tokenize(texts))
        out = getattr(out, "pooler_output", out)
        return F.normalize(out.float(), dim=-1)


class ClipMetrics:
    """Lazily loads a :class:`ClipScorer` once; both metrics share it."""

    def __init__(self, scorer: ClipScorer | None = None, name_or_path: str | None = None) -> None:
        self._scorer = scorer
        self._path = name_or_path
        self._error: str | None = None

    def scorer(self) -> ClipScorer | None:
        if self._scorer is None and self._error is None:
            try:
                self._scorer = ClipScorer.from_pretrained(self._path)
            except (WeightsNotFoundError, MissingDependencyError) as exc:
                self._error = str(exc)
        return self._scorer

    def reason(self) -> str | None:
        """``None`` when CLIP can run, else why not."""
        return None if self.scorer() is not None else self._error

    def model_name(self) -> str:
        from photo3d.encoders.registry import weights_source

        scorer = self.scorer()
        return scorer.name if scorer else f"transformers CLIPModel {weights_source(self._path or DEFAULT_CLIP)}"

    def image_score(self, item: EvalItem):
        if item.reference_image is None:
            return unavailable("no reference image for this item")
        scorer = self.scorer()
        views = scorer.image_embeddings(item.views)
        ref = scorer.image_embeddings(item.reference_image[None])
        return float((views @ ref.T).mean())

    def text_score(self, item: EvalItem):
        if not item.prompt:
            return unavailable("no prompt for this item")
        scorer = self.scorer()
        views = scorer.image_embeddings(item.views)
        text = scorer.text_embeddings([item.prompt])
        return float((views @ text.T).mean())

    def metrics(self) -> list[Metric]:
        """``clip_image`` and ``clip_text`` as :class:`Metric` objects."""
        model = self.model_name()
        return [
            Metric(
                "clip_image",
                "mean over views of cosine(CLIP image embedding of view, CLIP image embedding of "
                "the reference/input image)",
                model,
                True,
                self.image_score,
                self.reason,
            ),
            Metric(
                "clip_text",
                "mean over views of cosine(CLIP image embedding of view, CLIP text embedding of the prompt)",
                model,
                True,
                self.text_score,
                self.reason,
            ),
        ]
