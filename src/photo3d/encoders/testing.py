"""Tiny, seeded, random-weight encoders for tests and dry runs (no weights, no network).

``tiny-clip`` and ``tiny-dino`` are real ``transformers`` CLIP / DINOv3 towers built from
configs with hidden size 32, 2 layers, patch 8 and 32x32 native input, so tests exercise the
same wrappers as the full models. ``tiny-dinov2`` does the same for ``Dinov2Model``.
:class:`TinyConvEncoder` is a pure-PyTorch conv net that also runs in float64 (for gradcheck).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from photo3d.encoders.base import IMAGENET_MEAN, IMAGENET_STD, FrozenEncoder
from photo3d.encoders.hf import wrap_hf_model
from photo3d._optional import require

_TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
             image_size=32, patch_size=8)  # fmt: skip


def _seeded(seed: int):
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    return gen_state


def tiny_clip(seed: int = 0) -> FrozenEncoder:
    """A random 2-layer CLIP image tower (hidden 32, patch 8, 32x32 input, projection 16)."""
    tf = require("transformers", "the tiny CLIP test encoder")
    cfg = tf.CLIPVisionConfig(**_TINY, projection_dim=16)
    state = _seeded(seed)
    try:
        model = tf.CLIPVisionModelWithProjection(cfg)
    finally:
        torch.random.set_rng_state(state)
    return wrap_hf_model(model, "tiny-clip (random weights)", True)


def tiny_dino(seed: int = 0, version: int = 3) -> FrozenEncoder:
    """A random 2-layer DINOv3 (``version=3``, 4 register tokens) or DINOv2 backbone."""
    tf = require("transformers", "the tiny DINO test encoder")
    if version == 3:
        cfg = tf.DINOv3ViTConfig(**_TINY, num_register_tokens=4)
        cls = tf.DINOv3ViTModel
    else:
        cfg = tf.Dinov2Config(**_TINY)
        cls = tf.Dinov2Model
    state = _seeded(seed)
    try:
        model = cls(cfg)
    finally:
        torch.random.set_rng_state(state)
    name = "tiny-dino (random weights)" if version == 3 else "tiny-dinov2 (random weights)"
    return wrap_hf_model(model, name, True)


class TinyConvEncoder(FrozenEncoder):
    """Two strided convs; any dtype (float64 for gradcheck); patch size 4, input 16.

    Args:
        dim: token / embedding width.
        seed: weight seed.
    """

    def __init__(self, dim: int = 8, seed: int = 0) -> None:
        super().__init__("tiny-conv (random weights)", True, 16, 4, IMAGENET_MEAN, IMAGENET_STD)
        state = _seeded(seed)
        try:
            self.body = nn.Sequential(
                nn.Conv2d(3, dim, 3, stride=2, padding=1), nn.Tanh(),
                nn.Conv2d(dim, dim, 3, stride=2, padding=1), nn.Tanh(),
            )  # fmt: skip
            self.head = nn.Linear(dim, dim)
        finally:
            torch.random.set_rng_state(state)
        self.freeze()

    def patch_tokens(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` -> ``[B, dim, H/4, W/4]``."""
        return self.body(self.normalize(images))

    def embed(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` -> ``[B, dim]``."""
        return self.head(self.patch_tokens(images).mean(dim=(2, 3)))
