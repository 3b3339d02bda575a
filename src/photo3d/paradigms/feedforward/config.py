"""Options of the feed-forward (TexGaussian-style) paradigm (torch-free, for the CLI).

Two architectures share one code path:

* ``texgaussian``: the released PBR model's U-Net (ymxbj/TexGaussian ``core/options.py``,
  Objaverse preset): 64 x (1, 2, 4, 8, 8) channels, 2 ResNet blocks per down level and 3 per up
  level, text cross-attention (16 heads, CLIP ViT-L/14 text tokens 77 x 768) on down levels 3-4,
  the mid block and up levels 0-1, octree depth 8 / full depth 4, 100k training points, 200k at
  inference.
* ``tiny``: the same network at toy width and depth with a tiny random CLIP text tower, for
  smoke runs and tests on a CPU (never a stand-in for the released model's quality).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from photo3d.config import TypedConfig
from photo3d.errors import ConfigError

CLIP_L14 = "openai/clip-vit-large-patch14"
RIG_FOV = 39.6


@dataclass(frozen=True)
class Architecture:
    """Shape of the octree U-Net and of its input octree."""

    model_channels: int
    channel_mult: tuple[int, ...]
    down_attention: tuple[bool, ...]
    mid_attention: bool
    up_attention: tuple[bool, ...]
    num_heads: int
    context_dim: int
    layers_per_block: int
    depth: int
    full_depth: int
    train_points: int
    infer_points: int
    in_channels: int = 4   # "ND" features: normal (3) + local displacement (1)
    out_channels: int = 10  # opacity 1, scale 3, rgb 3, material 3 (rotation is not predicted)


ARCHITECTURES: dict[str, Architecture] = {
    "texgaussian": Architecture(
        model_channels=64, channel_mult=(1, 2, 4, 8, 8),
        down_attention=(False, False, False, True, True), mid_attention=True,
        up_attention=(True, True, False, False, False), num_heads=16, context_dim=768,
        layers_per_block=2, depth=8, full_depth=4, train_points=100_000, infer_points=200_000,
    ),
    "tiny": Architecture(
        model_channels=16, channel_mult=(1, 2, 2), down_attention=(False, True, True),
        mid_attention=True, up_attention=(True, True, False), num_heads=2, context_dim=32,
        layers_per_block=1, depth=6, full_depth=3, train_points=20_000, infer_points=40_000,
    ),
}  # fmt: skip


@dataclass
class FeedForwardConfig(TypedConfig):
    """Photo3D §4(b): a feed-forward texturer on the mesh's octree, fine-tuned with L_real."""

    model: Literal["texgaussian", "tiny"] = field(default="texgaussian", metadata={"help": "network: texgaussian (the released PBR model's size) or tiny (random toy model for smoke runs)"})
    weights: str = field(default="", metadata={"help": "local TexGaussian / Photo3D checkpoint (.safetensors, or a folder with model.safetensors); empty = random weights (labelled untrained)"})
    weights_copy: Literal["ema", "model"] = field(default="ema", metadata={"help": "which copy of a checkpoint holding both to load: ema_model.* (as the released inference) or model.*"})
    text_encoder: str = field(default=CLIP_L14, metadata={"help": "CLIP text tower: hub id or local folder (local files only; PHOTO3D_CLIP_L14 points the default at a folder), or 'tiny' (random, for tests; the default of --model tiny)"})
    depth: int = field(default=0, metadata={"help": "octree depth of the Gaussians (0 = the model's: 8 texgaussian, 6 tiny)"})
    train_points: int = field(default=0, metadata={"help": "surface points per mesh in training (0 = the model's: 100k texgaussian)"})
    infer_points: int = field(default=0, metadata={"help": "surface points per mesh at inference (0 = the model's: 200k texgaussian)"})
    normalize: Literal["none", "unit_sphere"] = field(default="none", metadata={"help": "network input frame: none = world (TRELLIS) coordinates as they are, as the Photo3D fine-tune trained; unit_sphere = scaled to radius 1, as TexGaussian's inference script"})
    splat_fov_deg: float = field(default=RIG_FOV, metadata={"help": "FoV the splat sizes were learnt under; 39.6 = consistent camera; 30 reproduces the Photo3D release's renderer (splats x1.34)"})
    gn_min_group_channels: int = field(default=4, metadata={"help": "GroupNorm(32) uses fewer groups below 32*N channels (ocnn >= 2.2.4 default 4; 1 = 32 groups everywhere, as ocnn < 2.2.4)"})
    checkpointing: bool = field(default=True, metadata={"help": "gradient checkpointing of the ResNet and attention blocks in training (as released)"})
    text_dropout: float = field(default=0.0, metadata={"help": "probability of training a sample with the empty prompt (released fine-tune: 0)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.text_dropout < 1.0:
            raise ConfigError(f"FeedForwardConfig.text_dropout = {self.text_dropout}: "
                              "expected a number in [0, 1)")
        if not 0.0 < self.splat_fov_deg < 180.0:
            raise ConfigError(f"FeedForwardConfig.splat_fov_deg = {self.splat_fov_deg}: "
                              "expected degrees in (0, 180)")
        arch = ARCHITECTURES[self.model]
        if self.depth and not arch.full_depth < self.depth <= 10:
            raise ConfigError(f"FeedForwardConfig.depth = {self.depth}: expected 0 or "
                              f"({arch.full_depth}, 10] for model {self.model!r}")

    @property
    def architecture(self) -> Architecture:
        """The network shape, with ``depth`` and point counts resolved."""
        arch = ARCHITECTURES[self.model]
        return Architecture(**{
            **asdict(arch),
            "depth": self.depth or arch.depth,
            "train_points": self.train_points or arch.train_points,
            "infer_points": self.infer_points or arch.infer_points,
        })  # fmt: skip
