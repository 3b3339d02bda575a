"""Settings of ``photo3d texture`` (no torch import here: the CLI builds its options from them).

Every field is one ``--kebab-case`` option and one key of ``record.json["config"]``. The model,
its weights, the prompt and the reference image are arguments of the command, not settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from photo3d.errors import InputError

UvMode = Literal["atlas", "keep"]


@dataclass
class TextureConfig:
    """How a mesh is textured and baked."""

    texture_size: int = field(default=1024, metadata={"help": "baked texture size in texels"})
    uv: UvMode = field(default="atlas", metadata={
        "help": "atlas: a fresh xatlas atlas for the whole mesh (as Step1X-3D and TexGaussian do); keep: the "
                "mesh's own UVs (one material, no overlapping UVs)"})
    seed: int = field(default=0, metadata={"help": "random seed of the texturer and of the fit's random views"})
    option: tuple[str, ...] = field(default=(), metadata={
        "metavar": "KEY=VALUE", "help": "options for the texturer (e.g. --option steps=30 guidance=3.0)"})
    exponent: float = field(default=4.0, metadata={
        "help": "view-angle weight |n.v|^exponent when baking views (Step1X-3D: 4)"})
    fit_steps: int = field(default=100, metadata={"help": "Adam steps fitting a texture to Gaussians"})
    fit_lr: float = field(default=0.005, metadata={"help": "learning rate of that fit (it refines a bake)"})
    fit_views: int = field(default=16, metadata={
        "help": "random views added to the Step1X-3D rig when fitting to Gaussians"})
    fit_resolution: int = field(default=512, metadata={"help": "render size of the fit's views in pixels"})
    preview_resolution: int = field(default=512, metadata={"help": "size of the grid and turntable views"})
    turntable: bool = field(default=True, metadata={"help": "render turntable.png and turntable.gif"})
    backend: str = field(default="auto", metadata={"help": "mesh visibility backend: auto, torch, gl or nvdiffrast"})
    device: str = field(default="auto", metadata={"help": "auto (CUDA when available), cpu or cuda[:i]"})
    progress: bool = field(default=True, metadata={"help": "show progress bars"})

    def __post_init__(self) -> None:
        for name in ("texture_size", "fit_resolution", "preview_resolution"):
            if getattr(self, name) < 8:
                raise InputError(f"{name.replace('_', '-')} must be >= 8, got {getattr(self, name)}")
        if self.fit_steps < 0 or self.fit_views < 0:
            raise InputError("fit-steps and fit-views must be >= 0")
        if self.exponent < 0:
            raise InputError(f"exponent must be >= 0, got {self.exponent}")
        self.texturer_options()  # malformed KEY=VALUE is an error now, not after loading a model

    def texturer_options(self) -> dict:
        """``option`` as a dict; values are read as JSON when they parse (numbers, true, lists), else text."""
        import json

        out = {}
        for item in self.option:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InputError(f"--option wants KEY=VALUE, got {item!r}")
            try:
                out[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                out[key.strip()] = value
        return out

    def to_dict(self) -> dict:
        """Plain dict for ``record.json``."""
        return asdict(self)
