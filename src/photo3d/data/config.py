"""Typed configuration of the Photo3D-MV builder (no torch import here).

A build is described by one TOML or JSON file whose tables mirror these dataclasses::

    out = "photo3d-mv"              # output folder
    seed = 0
    [source]      kind = "prompts" | "assets",  path = "...", limit = 100
    [rewrite]     backend = "openai" | "transformers" | "none", model = "..."
    [text_to_image]  backend = "openai" | "flux"
    [matting]     backend = "auto" | "rembg" | "threshold"
    [image_to_3d] backend = "trellis" | "hunyuan3d" | "card"
    [render]      resolution = 512
    [edit]        backend = "openai" | "kontext" | "import" | "none", model = "gpt-image-1"
    [verify]      min_iou = 0.85, min_edge_f = 0.7
    [tone]        mode = "none" | "mean" | "meanstd" | "histogram"
    [api]         base_url = "...", api_key_env = "OPENAI_API_KEY", prices = {"gpt-image-1" = 0.04}
    [executor]    kind = "local" | "ray", concurrency = {edit = 32}

Stages 1-5 (rewrite .. image_to_3d) only run for a ``prompts`` source; an ``assets`` source
starts at ``render``. Every table is optional. :func:`load_config` checks every key and value
before any work: an unknown key or a value of the wrong type is one line naming the file, the key,
the value and what was expected (``build.toml: render.resolution = '512': expected an integer``),
so typos never pass silently. Each field's help text documents its key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from photo3d.config import TypedConfig, option
from photo3d.config import config_from_dict as typed_config_from_dict
from photo3d.errors import InputError
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE
from photo3d.imaging.tone import ToneMode

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

    kind: Literal["prompts", "assets"] = option("prompts",
        "prompts (DiffusionDB / text / list) or assets (a folder of meshes)")
    path: str | None = option(None, "the prompt file or the asset folder")
    prompts: list[str] | None = option(None, "inline prompt list (instead of a file)")
    limit: int | None = option(None, "keep the first N samples (after dedupe)")
    offset: int = option(0, "skip the first N samples")
    asset_prompts: str | None = option(None, "JSON {key: prompt} for an assets source (default: the file stem)")


def _default_prices() -> dict[str, float]:
    # Estimated USD per call, by model id; override in the config for your contract.
    return {
        "gpt-image-1": 0.167,  # 1024x1024 high quality edit, list price order of magnitude
        "gpt-image-1-mini": 0.036,
        "dall-e-3": 0.04,
        "gpt-4o-mini": 0.0003,
    }


@dataclass
class ApiConfig(TypedConfig):
    """Shared settings of OpenAI-compatible endpoints (each stage may override base_url/key env)."""

    base_url: str | None = option(None, "endpoint, e.g. http://localhost:8000/v1 (None = api.openai.com)")
    api_key_env: str = option("OPENAI_API_KEY", "the NAME of the key's variable; the key never enters a file")
    timeout_s: float = option(120.0, "seconds per call")
    max_retries: int = option(6, "retries of transient errors (429, 5xx, timeouts, dropped connections, bad bodies)")
    backoff_base_s: float = option(1.0, "first backoff in seconds (doubles per retry, jittered)")
    backoff_cap_s: float = option(60.0, "longest backoff in seconds")
    max_retry_after_s: float = option(300.0, "longest Retry-After honoured before giving up on the call")
    prices: dict[str, float] = option(help="estimated USD per call by model id", factory=_default_prices)
    default_price: float = option(0.0, "USD per call for models missing from prices")


@dataclass
class RewriteConfig(TypedConfig):
    """Stage 2: prompt -> one object-centric description."""

    backend: Literal["openai", "transformers", "none"] = option("openai",
        "openai (any compatible chat endpoint), transformers (local LLM) or none")
    model: str = option("meta-llama/Meta-Llama-3-8B-Instruct", "chat model (the paper used LLaMA-3-8B)")
    system_prompt: str = option(REWRITE_SYSTEM_PROMPT, "instruction given to the rewriter")
    temperature: float = option(0.0, "sampling temperature")
    max_tokens: int = option(120, "longest answer in tokens")
    base_url: str | None = option(None, "this stage's endpoint (default: api.base_url)")
    api_key_env: str | None = option(None, "this stage's key variable (default: api.api_key_env)")


@dataclass
class TextToImageConfig(TypedConfig):
    """Stage 3: description -> one object image."""

    backend: Literal["flux", "openai"] = option("flux",
        "flux (diffusers FluxPipeline) or openai (images.generate)")
    model: str = option("black-forest-labs/FLUX.1-dev", "text-to-image model")
    size: int = option(1024, "image side in pixels")
    steps: int = option(28, "diffusion steps (flux)")
    guidance: float = option(3.5, "guidance scale (flux)")
    device: str = option("auto", "auto (CUDA when available), cpu or cuda[:i]")
    base_url: str | None = option(None, "this stage's endpoint (default: api.base_url)")
    api_key_env: str | None = option(None, "this stage's key variable (default: api.api_key_env)")


@dataclass
class MattingConfig(TypedConfig):
    """Stage 3b: background removal."""

    backend: Literal["auto", "rembg", "threshold"] = option("auto",
        "auto (rembg if installed, else threshold), rembg or threshold")
    white_tolerance: float = option(SILHOUETTE_WHITE_TOLERANCE,
        "threshold backend: a pixel is object when some channel is more than this below white")


@dataclass
class ImageTo3DConfig(TypedConfig):
    """Stage 4: image -> 3D asset (TRELLIS frame)."""

    backend: Literal["trellis", "hunyuan3d", "card"] = option("trellis",
        "trellis, hunyuan3d or card (offline stand-in: a textured card)")
    model: str = option("microsoft/TRELLIS-image-large", "image-to-3D model")
    device: str = option("auto", "auto (CUDA when available), cpu or cuda[:i]")


@dataclass
class RenderConfig(TypedConfig):
    """Stage 5: the rig's 2x2 grid."""

    resolution: int = option(512, "pixels per view; the grid is 2R x 2R")
    backend: Literal["auto", "torch", "gl", "nvdiffrast"] = option("auto",
        "rasterizer (see photo3d.render)")


@dataclass
class EditConfig(TypedConfig):
    """Stage 6: photoreal edit of the whole grid."""

    backend: Literal["openai", "kontext", "import", "none"] = option("openai",
        "openai (images.edit), kontext (diffusers), import (edits made elsewhere) or none")
    model: str = option("gpt-image-1", "editing model")
    prompt: str = option(EDIT_PROMPT, "edit instruction")
    max_attempts: int = option(3, "edits per sample including re-edits after failed verification")
    size: str | None = option(None, "e.g. 1024x1024 (None = let the endpoint decide)")
    quality: str | None = option(None, "endpoint quality setting")
    import_dir: str | None = option(None, "backend import: folder of grid_{id}.png / {key}.png files")
    steps: int = option(28, "diffusion steps (kontext)")
    guidance: float = option(2.5, "guidance scale (kontext)")
    device: str = option("auto", "auto (CUDA when available), cpu or cuda[:i]")
    base_url: str | None = option(None, "this stage's endpoint (default: api.base_url)")
    api_key_env: str | None = option(None, "this stage's key variable (default: api.api_key_env)")


@dataclass
class VerifyConfig(TypedConfig):
    """Structure verification of each edited view against its render."""

    enabled: bool = option(True, "check every edit's structure")
    min_iou: float = option(0.85, "smallest silhouette IoU of the foreground masks")
    min_edge_f: float = option(0.7, "smallest F-score of thin edge maps matched within edge_tolerance px")
    edge_tolerance: int = option(2, "edge matching radius at 512 px per view (scaled with the view size)")
    min_feature_sim: float = option(0.5, "smallest patch-feature similarity (only with encoder)")
    encoder: str | None = option(None, "patch-token encoder, e.g. dinov3-vitl16 or tiny-dino")
    white_tolerance: float = option(SILHOUETTE_WHITE_TOLERANCE,
        "silhouettes: a pixel is object when some channel is more than this below white")


@dataclass
class ToneConfig(TypedConfig):
    """Optional colour calibration of the edit back to the render."""

    mode: ToneMode = option("none", "none, mean, meanstd or histogram (see photo3d.imaging.match_tone)")
    strength: float = option(1.0, "0 = keep the edit, 1 = full match")


@dataclass
class ExecutorConfig(TypedConfig):
    """How stages are scheduled (never what they compute)."""

    kind: Literal["local", "ray"] = option("local", "local (threads) or ray")
    concurrency: dict[str, int] = option(help="samples in flight per stage name (defaults per stage kind)",
                                         factory=dict)
    ray_address: str | None = option(None, "Ray cluster address (None = start/attach a local cluster)")
    retry_failed: bool = option(False, "also retry samples that failed permanently (content policy, rejected)")
    progress: bool = option(True, "show a progress bar")


@dataclass
class BuildConfig(TypedConfig):
    """A whole Photo3D-MV build."""

    out: str = option("photo3d-mv", "output folder")
    seed: int = option(0, "build seed (every stage's seed derives from it and the sample key)")
    source: SourceConfig = option(help="where samples come from", factory=SourceConfig)
    api: ApiConfig = option(help="OpenAI-compatible endpoint settings", factory=ApiConfig)
    rewrite: RewriteConfig = option(help="stage 2: prompt rewriting", factory=RewriteConfig)
    text_to_image: TextToImageConfig = option(help="stage 3: text-to-image", factory=TextToImageConfig)
    matting: MattingConfig = option(help="stage 3b: background removal", factory=MattingConfig)
    image_to_3d: ImageTo3DConfig = option(help="stage 4: image-to-3D", factory=ImageTo3DConfig)
    render: RenderConfig = option(help="stage 5: the rig's grid", factory=RenderConfig)
    edit: EditConfig = option(help="stage 6: the photoreal edit", factory=EditConfig)
    verify: VerifyConfig = option(help="structure verification", factory=VerifyConfig)
    tone: ToneConfig = option(help="optional tone matching", factory=ToneConfig)
    executor: ExecutorConfig = option(help="scheduling", factory=ExecutorConfig)


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
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'} ({exc})") from exc
    try:
        cfg = config_from_dict(data)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
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
