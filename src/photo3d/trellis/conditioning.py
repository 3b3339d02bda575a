"""TRELLIS's image condition: DINOv2 ViT-L/14 with registers on a 518^2 object crop.

Preprocessing (TRELLIS ``preprocess_image``): an image without a real alpha channel is matted
(``rembg`` when installed, else :func:`photo3d.data.matting.threshold_matte` for objects on
white); the square around the alpha bounding box (alpha > 0.8) is enlarged 1.2x, cropped,
resized to 518^2 (Lanczos) and premultiplied by alpha, i.e. the object on black.

Encoding: ImageNet normalisation, DINOv2's last-block tokens *before* its final norm (CLS, 4
registers, 37^2 patches = 1374 tokens of 1024), then a LayerNorm without affine. The unconditional
("negative") condition is all zeros of that shape, known from the config without running anything.
The network comes from ``transformers`` (``Dinov2WithRegistersModel``; TRELLIS loads the same
weights through torch.hub), read from local files only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from photo3d.encoders.base import IMAGENET_MEAN, IMAGENET_STD
from photo3d.errors import InputError

CONDITION_SIZE = 518


def has_alpha(image: Image.Image) -> bool:
    """True when ``image`` carries an alpha channel that is not fully opaque."""
    return image.mode == "RGBA" and bool((np.asarray(image)[..., 3] < 255).any())


def matte(image: Image.Image, backend: str = "auto") -> tuple[Image.Image, str]:
    """RGBA object image: its own alpha when it has one, else background removal (``backend``)."""
    if has_alpha(image):
        return image, "alpha channel"
    from photo3d.data.matting import remove_background

    rgb = image.convert("RGB")
    scale = min(1.0, 1024 / max(rgb.size))
    if scale < 1:  # TRELLIS mats at most 1024 px
        rgb = rgb.resize((int(rgb.width * scale), int(rgb.height * scale)), Image.Resampling.LANCZOS)
    return remove_background(rgb, backend)


def crop_to_object(rgba: Image.Image, size: int = CONDITION_SIZE) -> Image.Image:
    """The ``size^2`` RGB condition image: object square x1.2, resized, premultiplied on black."""
    alpha = np.asarray(rgba.convert("RGBA"))[..., 3]
    ys, xs = np.nonzero(alpha > 0.8 * 255)
    if len(xs) == 0:
        raise InputError("the condition image has no foreground (no pixel with alpha > 0.8); "
                         "give an object photo on a plain background or an RGBA image with its alpha")
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = int(max(x1 - x0, y1 - y0) * 1.2)
    box = (cx - side // 2, cy - side // 2, cx + side // 2, cy + side // 2)  # PIL rounds, pads with 0
    out = rgba.convert("RGBA").crop(box).resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(out).astype(np.float32) / 255
    return Image.fromarray((arr[..., :3] * arr[..., 3:4] * 255).astype(np.uint8))


def prepare_image(image: Image.Image, matting: str = "auto") -> tuple[Image.Image, str]:
    """TRELLIS's full preprocessing. Returns ``(518^2 RGB image, how the alpha was obtained)``."""
    rgba, how = matte(image, matting)
    return crop_to_object(rgba), how


def view_condition(view: Tensor) -> Tensor:
    """A rendered / edited view on white ``[3, H, W]`` in [0, 1] -> its ``[3, 518, 518]`` condition image."""
    from photo3d.data.matting import threshold_matte
    from photo3d.io import to_pil, to_tensor

    return to_tensor(crop_to_object(threshold_matte(to_pil(view.detach().float().cpu()))))


class ImageConditioner(nn.Module):
    """Frozen DINOv2 (with registers) that turns 518^2 images into TRELLIS condition tokens.

    Args:
        model: a ``transformers`` ``Dinov2WithRegistersModel``.
        name: which weights run (recorded with outputs).
        is_standin: True for random / test weights.
    """

    def __init__(self, model: nn.Module, name: str, is_standin: bool) -> None:
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        self.name, self.is_standin = name, is_standin
        cfg = model.config
        patches = (cfg.image_size // cfg.patch_size) ** 2
        self.token_shape = (1 + int(getattr(cfg, "num_register_tokens", 0)) + patches, cfg.hidden_size)
        self.image_size = cfg.image_size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def describe(self) -> dict:
        return {"name": self.name, "is_standin": self.is_standin, "tokens": list(self.token_shape)}

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """``[B, 3, 518, 518]`` in [0, 1] -> ``[B, 1374, 1024]`` condition tokens."""
        if images.shape[-2:] != (self.image_size, self.image_size):
            raise InputError(f"condition images must be {self.image_size}x{self.image_size} "
                             f"(see prepare_image), got {tuple(images.shape[-2:])}")
        dtype = next(self.model.parameters()).dtype
        x = ((images.to(self.mean) - self.mean) / self.std).to(dtype)
        tokens = self.model(pixel_values=x, output_hidden_states=True).hidden_states[-1]
        return F.layer_norm(tokens.float(), tokens.shape[-1:])

    def zeros(self, batch: int = 1) -> Tensor:
        """The unconditional condition: zeros ``[batch, *token_shape]``."""
        return torch.zeros(batch, *self.token_shape, device=self.mean.device)


def load_conditioner(spec: str, folder: str | Path | None = None, device: str | torch.device = "cpu",
                     dtype: torch.dtype | None = None) -> ImageConditioner:
    """The conditioner a pipeline names (``image_cond_model``): a folder under ``folder``, a path, or
    TRELLIS's ``dinov2_vitl14_reg`` (``facebook/dinov2-with-registers-large`` from local files;
    ``PHOTO3D_DINOV2_REG`` may point at it)."""
    from photo3d.encoders.registry import load_backbone

    from photo3d.trellis.weights import pipeline_info

    local = Path(folder) / spec if folder is not None else None
    if local is not None and local.is_dir():
        model, name, _ = load_backbone(str(local))
        standin = pipeline_info(folder)["stand_in"]
    else:
        model, name, _ = load_backbone("dinov2-vitl14-reg" if spec == "dinov2_vitl14_reg" else spec)
        standin = False
    if model.config.model_type != "dinov2_with_registers":
        raise InputError(f"{name}: TRELLIS conditions on DINOv2 with registers, got a {model.config.model_type!r} model")
    cond = ImageConditioner(model, name + (" (random weights)" if standin else ""), standin)
    return cond.to(device=device, dtype=dtype or torch.float32)  # TRELLIS runs it in fp32 on every device

