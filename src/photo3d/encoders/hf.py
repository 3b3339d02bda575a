"""CLIP, DINOv2 and DINOv3 image towers from ``transformers``, wrapped as :class:`Encoder`.

What each wrapper returns (checked against transformers 5.x sources):

- CLIP (``CLIPVisionModelWithProjection``): ``embed`` = ``image_embeds`` (the projected CLS
  token, as OpenAI ``encode_image``); ``patch_tokens`` = ``last_hidden_state`` without CLS,
  passed through the vision tower's ``post_layernorm`` (HF returns it *before* that norm).
- DINOv2 (``Dinov2Model``, ``Dinov2WithRegistersModel``) / DINOv3 (``DINOv3ViTModel``):
  ``last_hidden_state`` is already after the final LayerNorm; ``patch_tokens`` drops the CLS
  token and the ``config.num_register_tokens`` register tokens (DINOv3 and the registers port of
  DINOv2 have 4, ``Dinov2Model`` none) and reshapes to the patch grid; ``embed`` = CLS
  (``pooler_output``).

Position embeddings: CLIP is run with ``interpolate_pos_encoding`` whenever the input is not
its native size; DINOv2 always interpolates; DINOv3 uses RoPE and takes any multiple of 16.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from photo3d.encoders.base import (
    CLIP_MEAN,
    CLIP_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    FrozenEncoder,
)


class CLIPImageEncoder(FrozenEncoder):
    """CLIP image tower (paper L_adapt encoder: OpenAI CLIP ViT-B/32).

    Args:
        model: a ``CLIPVisionModelWithProjection``.
        name: model id that runs.
        is_standin: True unless this is ``openai/clip-vit-base-patch32``.
    """

    def __init__(self, model: nn.Module, name: str, is_standin: bool) -> None:
        cfg = model.config
        super().__init__(name, is_standin, cfg.image_size, cfg.patch_size, CLIP_MEAN, CLIP_STD)
        self.model = model
        self.freeze()

    def _run(self, images: Tensor):
        x = self.normalize(images)
        interp = tuple(x.shape[-2:]) != (self.input_size, self.input_size)
        return self.model(pixel_values=x, interpolate_pos_encoding=interp)

    def embed(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` in [0, 1] -> projected image embedding ``[B, D_proj]`` (not normalised)."""
        return self._run(images).image_embeds

    def patch_tokens(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` -> post-layernorm patch tokens ``[B, D, H/p, W/p]`` (not normalised)."""
        out = self._run(images)
        tokens = self.model.vision_model.post_layernorm(out.last_hidden_state[:, 1:])
        return _to_grid(tokens, images.shape[-2] // self.patch_size, images.shape[-1] // self.patch_size)


class DINOImageEncoder(FrozenEncoder):
    """DINOv2 / DINOv3 backbone (paper L_match encoder: DINOv3 ViT-L/16).

    Args:
        model: a ``Dinov2Model``, ``Dinov2WithRegistersModel`` or ``DINOv3ViTModel``.
        name: model id that runs.
        is_standin: True unless this is DINOv3 ViT-L/16.
    """

    def __init__(self, model: nn.Module, name: str, is_standin: bool) -> None:
        cfg = model.config
        super().__init__(
            name, is_standin, cfg.image_size, cfg.patch_size, IMAGENET_MEAN, IMAGENET_STD
        )
        self.model = model
        self.num_prefix = 1 + int(getattr(cfg, "num_register_tokens", 0) or 0)
        self.freeze()

    def embed(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` in [0, 1] -> CLS token after the final norm ``[B, D]``."""
        return self.model(pixel_values=self.normalize(images)).pooler_output

    def patch_tokens(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` -> last-layer patch tokens after the final norm ``[B, D, H/p, W/p]``."""
        out = self.model(pixel_values=self.normalize(images))
        tokens = out.last_hidden_state[:, self.num_prefix :]
        return _to_grid(tokens, images.shape[-2] // self.patch_size, images.shape[-1] // self.patch_size)


def _to_grid(tokens: Tensor, h: int, w: int) -> Tensor:
    """``[B, h*w, D]`` row-major tokens -> ``[B, D, h, w]``."""
    b, n, d = tokens.shape
    if n != h * w:
        raise RuntimeError(f"encoder returned {n} patch tokens, expected {h}x{w}={h * w}")
    return tokens.transpose(1, 2).reshape(b, d, h, w)


def wrap_hf_model(model: nn.Module, name: str, is_standin: bool) -> FrozenEncoder:
    """Wrap a loaded transformers vision model by its ``config.model_type``.

    Args:
        model: ``CLIPVisionModelWithProjection``, ``Dinov2Model``, ``Dinov2WithRegistersModel`` or
            ``DINOv3ViTModel``.
        name: model id that runs.
        is_standin: True when not the paper's model for the loss it is used in.
    """
    kind = model.config.model_type
    if kind.startswith("clip"):
        return CLIPImageEncoder(model, name, is_standin)
    if kind in DINO_MODEL_TYPES:
        return DINOImageEncoder(model, name, is_standin)
    raise ValueError(f"unsupported encoder model_type {kind!r} for {name}")


# config.json model_type -> the transformers class that loads it as an image tower
DINO_MODEL_TYPES = {"dinov2": "Dinov2Model", "dinov2_with_registers": "Dinov2WithRegistersModel",
                    "dinov3_vit": "DINOv3ViTModel"}
SUPPORTED_MODEL_TYPES = ("clip*", *DINO_MODEL_TYPES)


def model_class_for(model_type: str):
    """The transformers class that loads a checkpoint of ``model_type`` as an image tower.

    Raises:
        UnsupportedModelError: any other ``model_type`` (one line naming the supported ones).
    """
    import transformers

    from photo3d.errors import UnsupportedModelError

    if model_type.startswith("clip"):
        return transformers.CLIPVisionModelWithProjection
    if model_type in DINO_MODEL_TYPES:
        return getattr(transformers, DINO_MODEL_TYPES[model_type])
    raise UnsupportedModelError(
        f"unsupported encoder model_type {model_type!r}: photo3d loads CLIP, DINOv2 (with or without "
        "registers) and DINOv3 image towers"
    )

