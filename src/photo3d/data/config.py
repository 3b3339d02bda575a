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
    [tone]        mode = "none" | "meanstd" | "histogram"
    [api]         base_url = "...", api_key_env = "OPENAI_API_KEY", prices = {"gpt-image-1" = 0.04}
    [executor]    kind = "local" | "ray", concurrency = {edit = 32}

Stages 1-5 (rewrite .. image_to_3d) only run for a ``prompts`` source; an ``assets`` source
starts at ``render``. Every table is optional. :func:`load_config` rejects unknown keys with a
one-line error naming the key, so typos never pass silently.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photo3d.errors import InputError
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE
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
class SourceConfig:
    """Where samples come from."""

    kind: str = "prompts"  # "prompts" (DiffusionDB / text / list) or "assets" (a folder of meshes)
    path: str | None = None  # file or folder
    prompts: list[str] | None = None  # inline prompt list (instead of a file)
    limit: int | None = None  # keep the first N samples (after dedupe)
    offset: int = 0  # skip the first N samples
    asset_prompts: str | None = None  # JSON {key: prompt} for an assets source (default: the file stem)


@dataclass
class ApiConfig:
    """Shared settings of OpenAI-compatible endpoints (each stage may override base_url/key env)."""

    base_url: str | None = None  # e.g. http://localhost:8000/v1; None = api.openai.com
    api_key_env: str = "OPENAI_API_KEY"  # the NAME of the variable; the key itself never enters a file
    timeout_s: float = 120.0
    max_retries: int = 6  # transient errors (429, 5xx, timeouts, dropped connections, bad bodies)
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    max_retry_after_s: float = 300.0  # longest Retry-After we honour before giving up on the call
    prices: dict[str, float] = field(default_factory=lambda: {
        # Estimated USD per call, by model id; override in the config for your contract.
        "gpt-image-1": 0.167,  # 1024x1024 high quality edit, list price order of magnitude
        "gpt-image-1-mini": 0.036,
        "dall-e-3": 0.04,
        "gpt-4o-mini": 0.0003,
    })
    default_price: float = 0.0  # for models missing from ``prices``


@dataclass
class RewriteConfig:
    """Stage 2: prompt -> one object-centric description."""

    backend: str = "openai"  # "openai" (any compatible chat endpoint), "transformers", "none"
    model: str = "meta-llama/Meta-Llama-3-8B-Instruct"  # the paper used LLaMA-3-8B
    system_prompt: str = REWRITE_SYSTEM_PROMPT
    temperature: float = 0.0
    max_tokens: int = 120
    base_url: str | None = None
    api_key_env: str | None = None


@dataclass
class TextToImageConfig:
    """Stage 3: description -> one object image."""

    backend: str = "flux"  # "flux" (diffusers FluxPipeline), "openai" (images.generate)
    model: str = "black-forest-labs/FLUX.1-dev"
    size: int = 1024
    steps: int = 28
    guidance: float = 3.5
    device: str = "auto"  # auto (CUDA when available), cpu, cuda[:i]
    base_url: str | None = None
    api_key_env: str | None = None


@dataclass
class MattingConfig:
    """Stage 3b: background removal."""

    backend: str = "auto"  # "auto" (rembg if installed, else threshold), "rembg", "threshold"
    white_tolerance: float = SILHOUETTE_WHITE_TOLERANCE  # threshold backend: object = a channel this far below white


@dataclass
class ImageTo3DConfig:
    """Stage 4: image -> 3D asset (TRELLIS frame)."""

    backend: str = "trellis"  # "trellis", "hunyuan3d", "card" (offline stand-in: a textured card)
    model: str = "microsoft/TRELLIS-image-large"
    device: str = "auto"  # auto (CUDA when available), cpu, cuda[:i]


@dataclass
class RenderConfig:
    """Stage 5: the rig's 2x2 grid."""

    resolution: int = 512  # per view; the grid is 2R x 2R
    backend: str = "auto"  # rasterizer: "auto", "torch", "gl", "nvdiffrast" (see photo3d.render)


@dataclass
class EditConfig:
    """Stage 6: photoreal edit of the whole grid."""

    backend: str = "openai"  # "openai" (images.edit), "kontext" (diffusers), "import", "none"
    model: str = "gpt-image-1"
    prompt: str = EDIT_PROMPT
    max_attempts: int = 3  # edits per sample including re-edits after failed verification
    size: str | None = None  # e.g. "1024x1024"; None = let the endpoint decide
    quality: str | None = None
    import_dir: str | None = None  # backend "import": folder of grid_{id}.png / {key}.png files
    steps: int = 28
    guidance: float = 2.5
    device: str = "auto"  # auto (CUDA when available), cpu, cuda[:i]
    base_url: str | None = None
    api_key_env: str | None = None


@dataclass
class VerifyConfig:
    """Structure verification of each edited view against its render."""

    enabled: bool = True
    min_iou: float = 0.85  # silhouette IoU of the foreground masks
    min_edge_f: float = 0.7  # F-score of thin edge maps matched within ``edge_tolerance`` px
    edge_tolerance: int = 2  # at 512 px per view; scaled with the view size
    min_feature_sim: float = 0.5  # used only when ``encoder`` is set
    encoder: str | None = None  # e.g. "dinov3-vitl16" / "tiny-dino" (patch-token cosine)
    white_tolerance: float = SILHOUETTE_WHITE_TOLERANCE  # silhouettes: object = a channel this far below white


@dataclass
class ToneConfig:
    """Optional colour calibration of the edit back to the render."""

    mode: str = "none"  # "none", "meanstd", "histogram"
    strength: float = 1.0  # 0 = keep the edit, 1 = full match


@dataclass
class ExecutorConfig:
    """How stages are scheduled (never what they compute)."""

    kind: str = "local"  # "local" (threads) or "ray"
    concurrency: dict[str, int] = field(default_factory=dict)  # per stage name; defaults per stage kind
    ray_address: str | None = None  # None = start/attach a local cluster
    retry_failed: bool = False  # also retry samples that failed permanently (content policy, rejected)
    progress: bool = True


@dataclass
class BuildConfig:
    """A whole Photo3D-MV build."""

    out: str = "photo3d-mv"
    seed: int = 0
    source: SourceConfig = field(default_factory=SourceConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    rewrite: RewriteConfig = field(default_factory=RewriteConfig)
    text_to_image: TextToImageConfig = field(default_factory=TextToImageConfig)
    matting: MattingConfig = field(default_factory=MattingConfig)
    image_to_3d: ImageTo3DConfig = field(default_factory=ImageTo3DConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    edit: EditConfig = field(default_factory=EditConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    tone: ToneConfig = field(default_factory=ToneConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (what ``OUT/config.json`` holds)."""
        return dataclasses.asdict(self)


def config_from_dict(data: dict[str, Any], cls: type = BuildConfig, where: str = "config") -> Any:
    """Build a (nested) config dataclass from a dict, rejecting unknown keys."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a table/object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    renamed = RENAMED_KEYS.get(where.rsplit(".", 1)[-1], {})
    kwargs = {}
    for key, value in data.items():
        key = renamed.get(key, key)
        if key not in fields:
            raise InputError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(fields))}")
        sub = fields[key].default_factory if fields[key].default_factory is not dataclasses.MISSING else None
        if sub is not None and dataclasses.is_dataclass(sub):
            value = config_from_dict(value, sub, f"{where}.{key}")
        kwargs[key] = value
    return cls(**kwargs)


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
    cfg = config_from_dict(data)
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
