"""Settings of ``photo3d enhance`` (no torch import here: the CLI builds its options from them).

Every field is one ``--kebab-case`` option of ``photo3d enhance`` and one key of
``record.json["config"]``, so the command line, the Python API and the records use the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from photo3d.config import TypedConfig
from photo3d.encoders.selection import EncoderPref
from photo3d.errors import InputError
from photo3d.imaging.tone import ToneMode

LossName = Literal["hybrid", "real", "adapt", "match", "l1", "l2"]
Registration = Literal["auto", "on", "off"]
OptimizerName = Literal["level-sgd", "level-adam", "adam"]
ToneChoice = Literal["auto", ToneMode]  # auto: drift for registered references, none otherwise

# Settings left at None are chosen for the device (EnhanceConfig.resolved): the paper's rig and
# batches on a GPU; on a CPU a quarter of the pixels, two views and two crops per step, so the
# default run of a 4-view rig finishes within minutes on 2 cores (README, BENCHMARKS.md).
DEVICE_DEFAULTS: dict[str, dict[str, int]] = {
    "cuda": {"steps": 150, "resolution": 512, "n_crops": 6, "views_per_step": 0, "match_scale": 2, "real_every": 1},
    "cpu": {"steps": 60, "resolution": 256, "n_crops": 2, "views_per_step": 2, "match_scale": 1, "real_every": 3},
}
GPU, CPU = DEVICE_DEFAULTS["cuda"], DEVICE_DEFAULTS["cpu"]


@dataclass
class EnhanceConfig(TypedConfig):
    """How one asset's base-colour texture is optimised against edited reference views."""

    steps: int | None = field(default=None, metadata={
        "help": f"optimisation steps (default: {GPU['steps']} on a GPU, {CPU['steps']} on a CPU)"})
    resolution: int | None = field(default=None, metadata={
        "help": f"render / reference resolution in pixels (default: {GPU['resolution']} = the rig's on a GPU, "
                f"{CPU['resolution']} on a CPU, ~4x cheaper)"})
    texture_size: int = field(default=0, metadata={
        "help": "optimised texture size in texels (0 = the asset's own, capped at 2048)"})
    pyramid_levels: int = field(default=5, metadata={
        "help": "levels of the Laplacian texture pyramid (1 = plain per-texel parameters)"})
    grey_levels: int = field(default=0, metadata={
        "help": "finest pyramid levels that change luminance only (colour changes on coarser levels)"})
    band_limit: bool = field(default=True, metadata={
        "help": "start the pyramid at the texel spacing the views resolve (no updates finer than the "
                "views can see; avoids speckle)"})
    ssaa: int = field(default=1, metadata={
        "help": "supersampling of the optimisation renders (2 = anti-aliased, 4x shading cost)"})
    lr: float = field(default=0.003, metadata={
        "help": "learning rate: the first step of a typical texel (texture values in [0, 1])"})
    optimizer: OptimizerName = field(default="level-sgd", metadata={
        "help": "level-sgd: momentum SGD with one step scale per pyramid level, set by the first gradient, so "
                "texels move in proportion to their gradient (no speckle); level-adam: the same scale kept "
                "renormalised; adam: plain per-texel Adam (paints colour speckle with feature losses)"})
    loss: LossName = field(default="hybrid", metadata={
        "help": "objective: hybrid (registered pixel term + L_real, the default), real (the paper's L_real "
                "alone), adapt / match (one term of it), l1 / l2 (pixel losses); the last five are ablations"})
    registration: Registration = field(default="auto", metadata={
        "help": "warp each reference into the render's frame by optical flow (OpenCV DIS) and weight pixels "
                "by its confidence; auto = on for hybrid, off for the ablation arms (as in the paper)"})
    register_every: int | None = field(default=None, metadata={
        "help": "re-register the references against the current renders every N steps (0 = only at the "
                "start; default: steps / 3)"})
    pixel_weight: float = field(default=1.0, metadata={
        "help": "hybrid: weight of the confidence-weighted L1 term on the registered references"})
    real_weight: float = field(default=0.1, metadata={
        "help": "hybrid: weight of L_real (with real-balance: its share of every update)"})
    real_balance: bool = field(default=True, metadata={
        "help": "hybrid: rescale L_real's gradient per pyramid level to real-weight times the pixel term's, so "
                "its share of every update is fixed"})
    real_every: int | None = field(default=None, metadata={
        "help": f"hybrid: evaluate L_real on every N-th step only (the pixel term runs every step; L_real's "
                f"encoders are most of a CPU step; default: {GPU['real_every']} on a GPU, {CPU['real_every']} on a CPU)"})
    lambda_adapt: float = field(default=1.0, metadata={"help": "weight of L_adapt in L_real"})
    lambda_match: float = field(default=1.0, metadata={"help": "weight of L_match in L_real"})
    n_crops: int | None = field(default=None, metadata={
        "help": f"random crops per view for L_adapt (default: {GPU['n_crops']} = the paper code's on a GPU, "
                f"{CPU['n_crops']} on a CPU)"})
    crop_scale_min: float = field(default=0.4, metadata={"help": "smallest L_adapt crop side, fraction of the view"})
    crop_scale_max: float = field(default=1.0, metadata={"help": "largest L_adapt crop side, fraction of the view"})
    adapt_size: int = field(default=0, metadata={
        "help": "side L_adapt crops are resized to (0 = the encoder's input size: 224 CLIP, 299 Inception)"})
    match_size: int = field(default=0, metadata={
        "help": "side views are resized to for L_match (0 = 2x the resolution on a GPU: 1024 at 512 px, as "
                "the paper; 1x on a CPU)"})
    anchor_weight: float = field(default=0.05, metadata={
        "help": "weight of the L1 anchor pulling the texture toward the original (0 = off)"})
    tone_match: ToneChoice = field(default="auto", metadata={
        "help": "calibrate reference colours on the foreground: drift removes each view's white balance, exposure "
                "and lighting ramp relative to the other views, fitted on the registered pixels, and keeps the edit's "
                "common colour change; none keeps the edit's colours; consensus removes per-view gains only; "
                "mean/meanstd/histogram match each view to its render (importing a flat, desaturated render's bias); "
                "auto = drift when the references are registered (the hybrid default), none for the ablation arms"})
    views_per_step: int | None = field(default=None, metadata={
        "help": f"reference views used per step (0 = all, as the paper's 4-view batches; default: all on a "
                f"GPU, {CPU['views_per_step']} on a CPU); every view is still used equally often"})
    view_exponent: float = field(default=2.0, metadata={
        "help": "registered pixels weigh |n.v|^view-exponent (as the baker); pixels beyond 75 degrees or next to "
                "silhouettes and depth jumps weigh 0, and texels only they see are not optimised"})
    precondition: bool = field(default=True, metadata={
        "help": "scale each texel's gradient by how few pixels see it (fixed, from the geometry), so sparsely "
                "seen regions converge as fast as the rest"})
    recolour_unseen: bool = field(default=True, metadata={
        "help": "texels no reference sees reliably take the colour change of the seen ones (per-channel gain and "
                "offset, plus the local change next to them diffused over the surface) instead of keeping the "
                "input's colour; chart borders the input's gutter bled into are refilled from the charts' interiors"})
    visibility_dilation: int = field(default=2, metadata={
        "help": "extra texels of dilation around the texels the references see"})
    encoders: EncoderPref = field(default="auto", metadata={
        "help": "auto/paper: CLIP ViT-B/32 + DINOv3 when local weights exist, else the offline "
                "Inception stand-in; offline: always the stand-in; tiny: random test doubles"})
    device: str = field(default="auto", metadata={"help": "auto (CUDA when available), cpu or cuda[:i]"})
    seed: int = field(default=0, metadata={"help": "random seed (crops, view order)"})
    turntable: bool = field(default=True, metadata={
        "help": "render held-out before/after views, turntable PNGs and a GIF"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    force: bool = field(default=False, metadata={
        "help": "optimise even when reference views fail the structure check against the asset (another "
                "object, mirrored, reordered, blank); the scores are recorded"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resolution is not None and self.resolution < 16:
            raise InputError(f"resolution must be >= 16 pixels, got {self.resolution}")
        for name in ("register_every", "n_crops", "views_per_step", "real_every"):
            value, least = getattr(self, name), 1 if name in ("n_crops", "real_every") else 0
            if value is not None and value < least:
                raise InputError(f"{name.replace('_', '-')} must be >= {least}, got {value}")
        if self.steps is not None and self.steps < 0:
            raise InputError(f"steps must be >= 0, got {self.steps}")
        if self.pyramid_levels < 1:
            raise InputError(f"pyramid_levels must be >= 1, got {self.pyramid_levels}")
        if self.texture_size < 0:
            raise InputError(f"texture_size must be >= 0, got {self.texture_size}")

    @property
    def tone(self) -> ToneMode:
        """The tone mode ``tone_match`` stands for (``auto``: drift when registered, else none)."""
        if self.tone_match == "auto":
            return "drift" if self.registered else "none"
        return self.tone_match

    @property
    def registered(self) -> bool:
        """Whether references are registered (``auto``: for the hybrid objective only)."""
        return self.registration == "on" or (self.registration == "auto" and self.loss == "hybrid")

    def resolved(self, device_type: str) -> EnhanceConfig:
        """A copy with every automatic setting (``None`` / ``match_size=0``) chosen for ``device_type``
        (``"cuda"``: :data:`DEVICE_DEFAULTS` ``["cuda"]``; anything else: the CPU's)."""
        d = DEVICE_DEFAULTS["cuda" if device_type == "cuda" else "cpu"]
        pick = lambda name: getattr(self, name) if getattr(self, name) is not None else d[name]  # noqa: E731
        steps, res = pick("steps"), pick("resolution")
        return replace(self, steps=steps, resolution=res, n_crops=pick("n_crops"),
                       views_per_step=pick("views_per_step"), real_every=pick("real_every"), match_size=self.match_size or d["match_scale"] * res,
                       register_every=self.register_every if self.register_every is not None else max(1, steps // 3))

