"""Typed configuration of the Photo3D-MV builder (no torch import here).

A build is described by one TOML or JSON file whose tables mirror these dataclasses::

    out = "photo3d-mv"              # output folder
    seed = 0
    [source]      kind = "prompts" | "assets",  path = "...", limit = 100
    [rewrite]     backend = "transformers" | "openai" | "none", model = "..."
    [text_to_image]  backend = "openai" | "flux"
    [matting]     backend = "auto" | "rembg" | "threshold"
    [image_to_3d] backend = "trellis" | "hunyuan3d" | "card"
    [render]      resolution = 512
    [edit]        backend = "openai" | "kontext" | "import" | "none", model = "gpt-image-1.5"
    [verify]      min_iou = 0.85, min_edge_f = 0.7
    [tone]        mode = "none" | "mean" | "meanstd" | "histogram"
    [api]         base_url = "...", api_key_env = "OPENAI_API_KEY", prices = {"gpt-image-1.5" = 0.13}
    [executor]    kind = "local" | "ray", concurrency = {edit = 32}

Stages 1-5 (rewrite .. image_to_3d) only run for a ``prompts`` source; an ``assets`` source
starts at ``render``. Every table is optional. :func:`load_config` checks every key and value
before any work: an unknown key or a value of the wrong type is one line naming the file, the key,
the value and what was expected (``build.toml: render.resolution = '512': expected an integer``),
so typos never pass silently. Each field's help text documents its key. Fields marked
``"run_only"`` (the output folder, ``[api]``, ``[executor]``, ``source.limit``, per-stage endpoints
and devices) may change between runs into one output folder; any other change is refused by
:func:`photo3d.data.builder.build` (the stage cache was computed with the old values). Model choices the OpenAI
endpoint would refuse (a shut-down image model, a parameter the model does not take, a non-OpenAI
chat model with no ``base_url``) are refused at load too (:mod:`photo3d.data.api_models`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from photo3d.config import TypedConfig
from photo3d.config import config_from_dict as typed_config_from_dict
from photo3d.data.api_models import DEFAULT_EDIT_MODEL, check_chat_model, check_image_model
from photo3d.errors import ConfigError, InputError
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE
from photo3d.imaging.tone import ToneMode
from photo3d.io.text import read_json, read_toml

# former key names still accepted in config files: table -> {old: new}
RENAMED_KEYS = {"matting": {"white_threshold": "white_tolerance"}, "verify": {"white_threshold": "white_tolerance"}}

REWRITE_SYSTEM_PROMPT = (
    "You turn text-to-image prompts into a description of ONE physical object for a 3D asset "
    "generator. Keep the main object the prompt is about (if it describes a scene, pick its most "
    "prominent object; if it describes a person or creature, describe it as a figurine-like whole "
    "body). Drop artist names, styles, render-engine and quality tags. Add realistic attributes: "
    "material, surface texture, colours, wear, and soft studio lighting. Answer with one sentence "
    "of at most 40 words, no quotes, no preamble, ending with: real camera shot, white background."
)

EDIT_PROMPT = (
    "This is a 2x2 grid of four views of the same 3D object. Keep the geometry, silhouette, pose, "
    "scale and position of the object in every cell exactly unchanged; only make the surface "
    "texture and materials more photorealistic and consistent across the four views; keep the "
    "pure white background."
)


@dataclass
class SourceConfig(TypedConfig):
    """Where samples come from."""

    kind: Literal["prompts", "assets"] = field(default="prompts", metadata={
        "help": "prompts (DiffusionDB / text / list) or assets (a folder of meshes)"})
    path: str | None = field(default=None, metadata={"help": "the prompt file or the asset folder"})
    prompts: list[str] | None = field(default=None, metadata={
        "help": "inline prompt list (instead of a file)"})
    limit: int | None = field(default=None, metadata={
        "run_only": True, "help": "keep the first N samples (after dedupe)"})
    offset: int = field(default=0, metadata={"help": "skip the first N samples"})
    asset_prompts: str | None = field(default=None, metadata={
        "help": "JSON {key: prompt} for an assets source (default: the file stem)"})


def _default_prices() -> dict[str, float]:
    # Estimated USD per call, by model id; override in the config for your contract.
    return {
        "gpt-image-1.5": 0.133,  # 1024x1024 high quality edit, list price order of magnitude
        "gpt-image-1-mini": 0.036,
        "gpt-5.4-mini": 0.0005,
        "gpt-4o-mini": 0.0003,
    }


@dataclass
class ApiConfig(TypedConfig):
    """Shared settings of OpenAI-compatible endpoints (each stage may override base_url/key env)."""

    base_url: str | None = field(default=None, metadata={
        "help": "endpoint, e.g. http://localhost:8000/v1 (None = api.openai.com)"})
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={
        "help": "the NAME of the key's variable; the key never enters a file"})
    timeout_s: float = field(default=120.0, metadata={"help": "seconds per call"})
    max_retries: int = field(default=6, metadata={
        "help": "retries of transient errors (429, 5xx, timeouts, dropped connections, bad bodies)"})
    backoff_base_s: float = field(default=1.0, metadata={
        "help": "first backoff in seconds (doubles per retry, jittered)"})
    backoff_cap_s: float = field(default=60.0, metadata={"help": "longest backoff in seconds"})
    max_retry_after_s: float = field(default=300.0, metadata={
        "help": "longest Retry-After honoured before giving up on the call"})
    prices: dict[str, float] = field(default_factory=_default_prices, metadata={
        "help": "estimated USD per call by model id"})
    default_price: float = field(default=0.0, metadata={
        "help": "USD per call for models missing from prices"})


@dataclass
class StageEndpoint(TypedConfig):
    """A stage's own OpenAI-compatible endpoint; unset fields fall back to the ``[api]`` table."""

    base_url: str | None = field(default=None, metadata={
        "run_only": True, "help": "this stage's endpoint (default: api.base_url)"})
    api_key_env: str | None = field(default=None, metadata={
        "run_only": True, "help": "this stage's key variable (default: api.api_key_env)"})


@dataclass
class LocalModel(TypedConfig):
    """Where a stage's local model runs."""

    device: str = field(default="auto", metadata={
        "run_only": True, "help": "auto (CUDA when available), cpu or cuda[:i]"})


@dataclass
class RewriteConfig(StageEndpoint, LocalModel):
    """Stage 2: prompt -> one object-centric description."""

    backend: Literal["openai", "transformers", "none"] = field(default="transformers", metadata={
        "help": "transformers (a local LLM, the default: the paper's LLaMA-3-8B), openai (any compatible chat "
                "endpoint: a non-OpenAI model needs base_url, e.g. vLLM) or none"})
    model: str = field(default="meta-llama/Meta-Llama-3-8B-Instruct", metadata={
        "help": "chat model: a local folder / hub id (transformers) or the endpoint's model id (openai)"})
    system_prompt: str = field(default=REWRITE_SYSTEM_PROMPT, metadata={
        "help": "instruction given to the rewriter"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature"})
    max_tokens: int = field(default=120, metadata={"help": "longest answer in tokens"})


@dataclass
class TextToImageConfig(StageEndpoint, LocalModel):
    """Stage 3: description -> one object image."""

    backend: Literal["flux", "openai"] = field(default="flux", metadata={
        "help": "flux (diffusers FluxPipeline) or openai (images.generate)"})
    model: str = field(default="black-forest-labs/FLUX.1-dev", metadata={"help": "text-to-image model"})
    size: int = field(default=1024, metadata={"help": "image side in pixels"})
    steps: int = field(default=28, metadata={"help": "diffusion steps (flux)"})
    guidance: float = field(default=3.5, metadata={"help": "guidance scale (flux)"})
    offload: Literal["none", "model", "sequential"] = field(default="none", metadata={
        "help": "flux on CUDA: none (whole pipeline on the GPU, about 33 GB in bf16), model (diffusers model CPU "
                "offload: one sub-model on the GPU at a time, ~24 GB) or sequential (layer by layer, slowest)"})


@dataclass
class MattingConfig(TypedConfig):
    """Stage 3b: background removal."""

    backend: Literal["auto", "rembg", "threshold"] = field(default="auto", metadata={
        "help": "auto (rembg if installed, else threshold), rembg or threshold"})
    white_tolerance: float = field(default=SILHOUETTE_WHITE_TOLERANCE, metadata={
        "help": "threshold backend: a pixel is object when some channel is more than this below white"})


@dataclass
class ImageTo3DConfig(LocalModel):
    """Stage 4: image -> 3D asset (TRELLIS frame)."""

    backend: Literal["trellis", "hunyuan3d", "card"] = field(default="trellis", metadata={
        "help": "trellis, hunyuan3d or card (offline stand-in: a textured card)"})
    model: str = field(default="microsoft/TRELLIS-image-large", metadata={
        "help": "image-to-3D model: trellis: a local TRELLIS-image-large folder, or 'tiny' (random stand-in "
                "weights); hunyuan3d: tencent/Hunyuan3D-2 unless another folder / id is given"})
    checkpoint: str = field(default="", metadata={
        "help": "trellis: Photo3D's fine-tuned stage 2 ('photo3d' or its folder)"})
    texture: bool = field(default=True, metadata={
        "help": "hunyuan3d: paint the mesh with Hunyuan3D-Paint (CUDA only); false = grey geometry, so the edit "
                "must invent all appearance"})


@dataclass
class RenderConfig(TypedConfig):
    """Stage 5: the rig's 2x2 grid."""

    resolution: int = field(default=512, metadata={"help": "pixels per view; the grid is 2R x 2R"})
    backend: Literal["auto", "torch", "gl", "nvdiffrast"] = field(default="auto", metadata={
        "help": "rasterizer (see photo3d.render)"})


@dataclass
class EditConfig(StageEndpoint, LocalModel):
    """Stage 6: photoreal edit of the whole grid."""

    backend: Literal["openai", "kontext", "import", "none"] = field(default="openai", metadata={
        "help": "openai (images.edit), kontext (diffusers), import (edits made elsewhere) or none"})
    model: str = field(default=DEFAULT_EDIT_MODEL, metadata={
        "help": "editing model: an OpenAI image model (gpt-image-1.5, gpt-image-2, gpt-image-2.5-sunburst, ...; "
                "gpt-image-1 is shut down) or another endpoint's model with base_url; kontext: a FLUX.1-Kontext "
                "folder / hub id"})
    input_fidelity: Literal["auto", "high", "low", "none"] = field(default="auto", metadata={
        "help": "openai: how closely the edit keeps the input's features; auto = the highest the model takes "
                "(high on gpt-image-1.5), omitted for models without it (gpt-image-2.x)"})
    prompt: str = field(default=EDIT_PROMPT, metadata={"help": "edit instruction"})
    max_attempts: int = field(default=3, metadata={
        "help": "edits per sample including re-edits after failed verification"})
    size: str | None = field(default=None, metadata={
        "help": "e.g. 1024x1024 (None = let the endpoint decide)"})
    quality: str | None = field(default=None, metadata={"help": "endpoint quality setting"})
    import_dir: str | None = field(default=None, metadata={
        "help": "backend import: folder of grid_{id}.png / {key}.png files"})
    steps: int = field(default=28, metadata={"help": "diffusion steps (kontext)"})
    guidance: float = field(default=2.5, metadata={"help": "guidance scale (kontext)"})
    offload: Literal["none", "model", "sequential"] = field(default="none", metadata={
        "help": "kontext on CUDA: none (whole pipeline on the GPU, about 33 GB in bf16), model (diffusers "
                "model CPU offload: one sub-model on the GPU at a time) or sequential (layer by layer, slowest)"})


@dataclass
class VerifyConfig(TypedConfig):
    """Structure verification of each edited view against its render."""

    enabled: bool = field(default=True, metadata={"help": "check every edit's structure"})
    min_iou: float = field(default=0.85, metadata={"help": "smallest silhouette IoU of the foreground masks"})
    min_edge_f: float = field(default=0.7, metadata={
        "help": "smallest F-score of thin edge maps matched within edge_tolerance px"})
    edge_tolerance: int = field(default=2, metadata={
        "help": "edge matching radius at 512 px per view (scaled with the view size)"})
    min_feature_sim: float = field(default=0.5, metadata={
        "help": "smallest patch-feature similarity (only with encoder)"})
    encoder: str | None = field(default=None, metadata={
        "help": "patch-token encoder, e.g. dinov3-vitl16 or tiny-dino"})
    white_tolerance: float = field(default=SILHOUETTE_WHITE_TOLERANCE, metadata={
        "help": "silhouettes: a pixel is object when some channel is more than this below white"})


@dataclass
class ToneConfig(TypedConfig):
    """Optional colour calibration of the edit back to the render."""

    mode: ToneMode = field(default="none", metadata={
        "help": "none, mean, meanstd, histogram, consensus or drift (see photo3d.imaging.match_tone)"})
    strength: float = field(default=1.0, metadata={"help": "0 = keep the edit, 1 = full match"})


@dataclass
class ExecutorConfig(TypedConfig):
    """How stages are scheduled (never what they compute)."""

    kind: Literal["local", "ray"] = field(default="local", metadata={"help": "local (threads) or ray"})
    concurrency: dict[str, int] = field(default_factory=dict, metadata={
        "help": "samples in flight per stage name (defaults per stage kind)"})
    ray_address: str | None = field(default=None, metadata={
        "help": "Ray cluster address (None = start/attach a local cluster)"})
    retry_failed: bool = field(default=False, metadata={
        "help": "also retry samples that failed permanently (content policy, rejected)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})


@dataclass
class BuildConfig(TypedConfig):
    """A whole Photo3D-MV build."""

    out: str = field(default="photo3d-mv", metadata={"run_only": True, "help": "output folder"})
    seed: int = field(default=0, metadata={
        "help": "build seed (every stage's seed derives from it and the sample key)"})
    source: SourceConfig = field(default_factory=SourceConfig, metadata={"help": "where samples come from"})
    api: ApiConfig = field(default_factory=ApiConfig, metadata={
        "run_only": True, "help": "OpenAI-compatible endpoint settings"})
    rewrite: RewriteConfig = field(default_factory=RewriteConfig, metadata={
        "help": "stage 2: prompt rewriting"})
    text_to_image: TextToImageConfig = field(default_factory=TextToImageConfig, metadata={
        "help": "stage 3: text-to-image"})
    matting: MattingConfig = field(default_factory=MattingConfig, metadata={
        "help": "stage 3b: background removal"})
    image_to_3d: ImageTo3DConfig = field(default_factory=ImageTo3DConfig, metadata={
        "help": "stage 4: image-to-3D"})
    render: RenderConfig = field(default_factory=RenderConfig, metadata={"help": "stage 5: the rig's grid"})
    edit: EditConfig = field(default_factory=EditConfig, metadata={"help": "stage 6: the photoreal edit"})
    verify: VerifyConfig = field(default_factory=VerifyConfig, metadata={"help": "structure verification"})
    tone: ToneConfig = field(default_factory=ToneConfig, metadata={"help": "optional tone matching"})
    executor: ExecutorConfig = field(default_factory=ExecutorConfig, metadata={
        "run_only": True, "help": "scheduling"})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.check_models()

    def check_models(self) -> None:
        """Refuse model choices the OpenAI endpoint would reject (see :mod:`photo3d.data.api_models`)."""
        base = self.api.base_url
        if self.source.kind == "prompts" and self.rewrite.backend == "openai":
            check_chat_model(self.rewrite.model, self.rewrite.base_url or base, "rewrite")
        if self.source.kind == "prompts" and self.text_to_image.backend == "openai":
            check_image_model(self.text_to_image.model, self.text_to_image.base_url or base, None, "none",
                              "text_to_image")
        if self.edit.backend == "openai":
            check_image_model(self.edit.model, self.edit.base_url or base, self.edit.quality,
                              self.edit.input_fidelity, "edit")


def config_from_dict(data: dict[str, Any], cls: type = BuildConfig, where: str = "config") -> Any:
    """Build a (nested) config from a dict: unknown keys and wrong value types are one-line errors."""
    return typed_config_from_dict(data, cls, where, RENAMED_KEYS)


def load_config(path: str | os.PathLike, **overrides: Any) -> BuildConfig:
    """Read a TOML (``.toml``) or JSON build config; relative paths resolve against its folder.

    Args:
        path: the config file.
        overrides: top-level fields to replace (e.g. ``out=...``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such config file")
    data = read_toml(path, "config file") if path.suffix.lower() == ".toml" else read_json(path, "config file")
    try:
        cfg = config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    base = path.resolve().parent
    cfg.out = str(_resolve(base, cfg.out))
    for obj, name in ((cfg.source, "path"), (cfg.source, "asset_prompts"), (cfg.edit, "import_dir")):
        if getattr(obj, name):
            setattr(obj, name, str(_resolve(base, getattr(obj, name))))
    for key, value in overrides.items():
        if value is not None:
            setattr(cfg, key, value)
    return cfg


def _resolve(base: Path, p: str) -> Path:
    q = Path(os.path.expanduser(p))
    return q if q.is_absolute() else base / q
