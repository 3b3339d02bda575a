"""TRELLIS-image-large in plain PyTorch: image -> sparse structure -> SLAT -> 3D Gaussians.

No CUDA extension and no ``trellis`` package: our own sparse voxel tensor
(:class:`SparseTensor`), submanifold convolution as gather + matmul on spconv-layout weights
(:mod:`.conv`), dense, per-sample and shifted-window attention through
``scaled_dot_product_attention`` (:mod:`.attention`), the four networks (:mod:`.ss_flow`,
:mod:`.ss_decoder`, :mod:`.slat_flow`, :mod:`.gs_decoder`) loading the published checkpoints
key for key (:mod:`.weights`), DINOv2 conditioning (:mod:`.conditioning`), TRELLIS's sampler
(:mod:`.sampler`) and the pipeline (:mod:`.pipeline`). ``benchmarks/trellis_equivalence.py``
checks every network against a checkout of microsoft/TRELLIS.

Light to import: names resolve on first use (torch is not imported by ``import photo3d.trellis``).
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "SparseTensor": "photo3d.trellis.sparse",
    "SparseConv3d": "photo3d.trellis.conv",
    "submanifold_conv3d": "photo3d.trellis.conv",
    "MultiHeadAttention": "photo3d.trellis.attention",
    "segment_attention": "photo3d.trellis.attention",
    "SparseStructureFlowModel": "photo3d.trellis.ss_flow",
    "SparseStructureDecoder": "photo3d.trellis.ss_decoder",
    "SLatFlowModel": "photo3d.trellis.slat_flow",
    "SLatGaussianDecoder": "photo3d.trellis.gs_decoder",
    "clamp_colors": "photo3d.trellis.gs_decoder",
    "ImageConditioner": "photo3d.trellis.conditioning",
    "prepare_image": "photo3d.trellis.conditioning",
    "SamplerParams": "photo3d.trellis.sampler",
    "sample_flow": "photo3d.trellis.sampler",
    "guided_velocity": "photo3d.trellis.sampler",
    "TrellisPipeline": "photo3d.trellis.pipeline",
    "GenerationResult": "photo3d.trellis.pipeline",
    "load_network": "photo3d.trellis.weights",
    "write_random_pipeline": "photo3d.trellis.weights",
    "PRESETS": "photo3d.trellis.presets",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
