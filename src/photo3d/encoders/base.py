"""The frozen image-encoder interface shared by L_adapt and L_match.

An :class:`Encoder` turns images into either one global embedding per image (used by L_adapt,
Photo3D §3.1, where the paper uses CLIP) or a grid of patch tokens (used by L_match, §3.2, where
the paper uses DINOv3). Images enter as float ``[B, 3, H, W]`` in [0, 1]; each encoder applies its
own mean/std normalisation. Resizing is the loss's job (it must match the released code's
bilinear resize), so encoders take images at whatever size they are given.

:class:`FrozenEncoder` is the common ``nn.Module`` base: weights frozen, always in eval mode
(``.train()`` is a no-op) because the losses must never update or re-normalise the encoder.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor, nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@runtime_checkable
class Encoder(Protocol):
    """A frozen image encoder.

    Attributes:
        name: id of the model that actually runs (hub id, path, or a descriptive name).
        is_standin: True when this is not the model the paper uses for its loss.
        input_size: native square input size (L_adapt resizes crops to it).
        patch_size: effective stride of one patch token in input pixels.
    """

    name: str
    is_standin: bool
    input_size: int
    patch_size: int

    def embed(self, images: Tensor) -> Tensor:
        """Global embedding, not normalised. ``[B, 3, H, W]`` in [0, 1] -> ``[B, D]``."""
        ...

    def patch_tokens(self, images: Tensor) -> Tensor:
        """Last-layer tokens after the final norm, not L2-normalised. ``[B,3,H,W]`` -> ``[B,D,h,w]``."""
        ...


class FrozenEncoder(nn.Module):
    """Base class: normalisation buffers, frozen parameters, permanent eval mode.

    Subclasses implement :meth:`embed` and :meth:`patch_tokens` and call :meth:`freeze` at the
    end of ``__init__``.

    Args:
        name: model id that actually runs.
        is_standin: True when not the paper's model.
        input_size: native square input size.
        patch_size: effective token stride in pixels.
        mean: per-channel mean applied to [0, 1] images.
        std: per-channel std applied to [0, 1] images.
    """

    def __init__(
        self,
        name: str,
        is_standin: bool,
        input_size: int,
        patch_size: int,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
    ) -> None:
        super().__init__()
        self.name = name
        self.is_standin = is_standin
        self.input_size = int(input_size)
        self.patch_size = int(patch_size)
        self.register_buffer("_mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def freeze(self) -> FrozenEncoder:
        """Disable gradients for every parameter and switch to eval mode; returns self."""
        for p in self.parameters():
            p.requires_grad_(False)
        return super().train(False)

    def train(self, mode: bool = True) -> FrozenEncoder:
        # A loss encoder stays in eval mode: a trainer calling model.train() on a parent module
        # must not switch dropout or norm statistics on.
        return super().train(False)

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the encoder's weights (inputs are cast to it)."""
        return next(iter(self.parameters())).dtype

    @property
    def device(self) -> torch.device:
        """Device of the encoder's weights."""
        return next(iter(self.parameters())).device

    def normalize(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` in [0, 1] -> mean/std normalised, in the encoder's dtype."""
        mean = self._mean.to(images.dtype)
        std = self._std.to(images.dtype)
        return ((images - mean) / std).to(self.dtype)

    def describe(self) -> dict:
        """A JSON-able record of what runs (for run logs and outputs)."""
        return {
            "name": self.name,
            "is_standin": self.is_standin,
            "input_size": self.input_size,
            "patch_size": self.patch_size,
            "dtype": str(self.dtype).replace("torch.", ""),
        }

    def embed(self, images: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def patch_tokens(self, images: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, images: Tensor) -> Tensor:
        """Same as :meth:`embed`."""
        return self.embed(images)


def default_dtype(device: torch.device | str, dtype: torch.dtype | None) -> torch.dtype:
    """fp32 on CPU; bf16 (or fp16 without bf16 support) on CUDA, unless ``dtype`` is given."""
    if dtype is not None:
        return dtype
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32
