"""The feed-forward paradigm (Photo3D §4(b)): TexGaussian's octree U-Net, fine-tuned with L_real.

A mesh's surface points become an ``ocnn`` octree; a text-conditioned octree U-Net predicts one
3D Gaussian (plus roughness/metallic) per non-empty leaf, rendered with our Gaussian rasteriser.

* :func:`build_feedforward` -> the training strategy (:mod:`.strategy`) for ``photo3d train feedforward``;
* :func:`~.texturer.build_texturer` -> the texturer for ``photo3d texture --model feedforward``;
* :func:`~.checkpoint.load_unet_weights` -> released TexGaussian / Photo3D checkpoints.

Heavy modules (torch, ocnn, transformers) are imported on first use; :mod:`.config` is torch-free.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.paradigms.feedforward.config import ARCHITECTURES, FeedForwardConfig

_EXPORTS = {
    "build_feedforward": "photo3d.paradigms.feedforward.strategy",
    "build_model": "photo3d.paradigms.feedforward.strategy",
    "FeedForwardStrategy": "photo3d.paradigms.feedforward.strategy",
    "FeedForwardTexturer": "photo3d.paradigms.feedforward.model",
    "OctreeUNet": "photo3d.paradigms.feedforward.unet",
    "build_octree_batch": "photo3d.paradigms.feedforward.octree",
    "load_unet_weights": "photo3d.paradigms.feedforward.checkpoint",
    "load_text_encoder": "photo3d.paradigms.feedforward.text",
    "build_texturer": "photo3d.paradigms.feedforward.texturer",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["ARCHITECTURES", "FeedForwardConfig", *sorted(_EXPORTS)]
