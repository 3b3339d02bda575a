"""TRELLIS checkpoints: ``ckpts/<name>.json`` + ``.safetensors``, ``pipeline.json``, Photo3D's files.

A TRELLIS-image-large folder (``huggingface-cli download microsoft/TRELLIS-image-large``) holds
``pipeline.json`` (model paths, sampler settings, SLAT normalisation, image-conditioning model)
and one ``ckpts/<name>.json`` (``{"name": class, "args": {...}}``) + ``ckpts/<name>.safetensors``
per network. Loading is strict: a file whose keys or shapes do not fit the network raises
:class:`~photo3d.errors.CheckpointMismatchError` with one line naming them. Tensors are cast to
the network's own dtypes (fp16 files load into fp32 or bf16 networks).

Photo3D's fine-tuned TRELLIS (``LaPetitRose/Photo3D_models``, folder ``Trellis/``) is a SLAT flow
model (``slat_denoiser.pt`` or ``.safetensors`` with its training ``config.json``) and a Gaussian
decoder (``decoder.safetensors``) that replace the pipeline's two stage-2 networks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from photo3d._optional import require
from photo3d.errors import CheckpointMismatchError, Photo3DError, WeightsNotFoundError
from photo3d.io import atomic_write_bytes, atomic_write_json, read_json
from photo3d.trellis.presets import DINOV2, NETWORK_KEYS, SAMPLERS, SLAT_NORMALIZATION, preset

# Prefix of the DINOv3 cross-attention modules of Photo3D's SLatGaussianDecoderDinoCond. The released
# inference enables them only with --use-dino-cond (off by default); their weights are skipped.
DINO_COND_PREFIX = "dino_cross_attns."
PHOTO3D_FLOW_FILES = ("slat_denoiser.safetensors", "slat_denoiser.pt", "slat_denoiser.pth")
PHOTO3D_DOWNLOAD = ("huggingface-cli download LaPetitRose/Photo3D_models --include 'Trellis/*' --local-dir DIR, "
                    "then pass --checkpoint DIR/Trellis (or set PHOTO3D_TRELLIS_CHECKPOINT=DIR/Trellis)")


def network_classes() -> dict[str, type[nn.Module]]:
    """TRELLIS class names (as in ``ckpts/*.json``) -> the networks here."""
    from photo3d.trellis.gs_decoder import SLatGaussianDecoder
    from photo3d.trellis.slat_flow import SLatFlowModel
    from photo3d.trellis.ss_decoder import SparseStructureDecoder
    from photo3d.trellis.ss_flow import SparseStructureFlowModel

    return {
        "SparseStructureFlowModel": SparseStructureFlowModel,
        "SparseStructureDecoder": SparseStructureDecoder,
        "SLatFlowModel": SLatFlowModel,
        "ElasticSLatFlowModel": SLatFlowModel,  # the training-time memory wrapper: same network
        "SLatGaussianDecoder": SLatGaussianDecoder,
        "ElasticSLatGaussianDecoder": SLatGaussianDecoder,
        "SLatGaussianDecoderDinoCond": SLatGaussianDecoder,
    }


def network_config(obj: dict, source: str = "config") -> dict:
    """``{"name", "args"}`` from a checkpoint JSON or a TRELLIS training config (``models.denoiser``)."""
    if "name" in obj and "args" in obj:
        return {"name": obj["name"], "args": dict(obj["args"])}
    models = obj.get("models", {})
    for key in ("denoiser", "decoder"):
        if isinstance(models.get(key), dict) and "name" in models[key]:
            return network_config(models[key], source)
    raise CheckpointMismatchError(f"{source}: not a TRELLIS model config (want {{'name', 'args'}} or "
                                  "{'models': {'denoiser': {...}}})")


def build_network(config: dict, torso_dtype: torch.dtype | None = None) -> nn.Module:
    """Instantiate ``config = {"name", "args"}`` (on the current default device)."""
    classes = network_classes()
    if config["name"] not in classes:
        raise CheckpointMismatchError(f"network {config['name']!r} is not implemented here; known: {sorted(classes)}")
    args = {k: v for k, v in config["args"].items() if k not in ("enable_dino_cond",)}
    return classes[config["name"]](**args, torso_dtype=torso_dtype)


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a ``.pt`` / ``.pth`` state dict (read with ``weights_only``)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"{path}: checkpoint file not found")
    if path.suffix == ".safetensors":
        return require("safetensors.torch", "reading TRELLIS checkpoints").load_file(str(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure: say what to do
        raise CheckpointMismatchError(f"{path}: not a plain tensor checkpoint ({type(exc).__name__}); "
                                      "save it as a state dict or .safetensors") from exc
    for key in ("state_dict", "model", "denoiser"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise CheckpointMismatchError(f"{path}: no state dict of tensors inside (tried keys state_dict/model/denoiser)")
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def _names(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... (+{len(keys) - limit})" if len(keys) > limit else "")


def check_state_dict(model: nn.Module, state: dict[str, Any], source: str,
                     skip_prefixes: tuple[str, ...] = (), allow_missing: bool = False) -> list[str]:
    """Compare ``state`` with ``model.state_dict()``; raise on any difference.

    Args:
        model: the network.
        state: name -> tensor (or anything with ``.shape``, e.g. meta tensors).
        source: file name for the message.
        skip_prefixes: unexpected keys with these prefixes are tolerated (and returned).
        allow_missing: tolerate keys of the model absent from ``state`` (an overlay).

    Returns:
        The skipped keys.

    Raises:
        CheckpointMismatchError: one line naming missing / unexpected keys and shape mismatches.
    """
    own = model.state_dict()
    skipped = sorted(k for k in state if k not in own and k.startswith(skip_prefixes))
    missing = [] if allow_missing else sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own) - set(skipped))
    shapes = sorted(f"{k} (file {list(state[k].shape)}, network {list(own[k].shape)})"
                    for k in set(state) & set(own) if tuple(state[k].shape) != tuple(own[k].shape))
    if missing or unexpected or shapes:
        parts = [f"{len(missing)} missing keys ({_names(missing)})" if missing else "",
                 f"{len(unexpected)} unexpected keys ({_names(unexpected)})" if unexpected else "",
                 f"{len(shapes)} shape mismatches ({_names(shapes, 2)})" if shapes else ""]
        raise CheckpointMismatchError(f"{source} does not fit {type(model).__name__}: "
                                      + "; ".join(p for p in parts if p)
                                      + "; check that the file and its .json config belong together")
    return skipped


def load_state_dict_into(model: nn.Module, state: dict[str, torch.Tensor], source: str,
                         skip_prefixes: tuple[str, ...] = (), allow_missing: bool = False,
                         assign: bool = False) -> list[str]:
    """Strictly load ``state`` into ``model`` (checked by :func:`check_state_dict`), casting dtypes.

    ``assign=True`` keeps the given tensors (e.g. meta tensors for a shape-only load).
    Returns the skipped keys.
    """
    skipped = check_state_dict(model, state, source, skip_prefixes, allow_missing)
    own = model.state_dict()
    cast = {k: (v if assign else v.to(own[k].dtype)) for k, v in state.items() if k in own}
    model.load_state_dict(cast, strict=not allow_missing, assign=assign)
    return skipped


def load_network(stem: str | os.PathLike, torso_dtype: torch.dtype | None = None,
                 device: str | torch.device = "cpu") -> nn.Module:
    """``<stem>.json`` + ``<stem>.safetensors`` -> the network in eval mode on ``device``."""
    stem = Path(stem)
    cfg_file, weights = stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".safetensors")
    for f in (cfg_file, weights):
        if not f.is_file():
            raise WeightsNotFoundError(f"{f}: not found (a TRELLIS checkpoint is <name>.json + <name>.safetensors)")
    config = network_config(_read_config(cfg_file), str(cfg_file))
    with torch.device("meta"):
        model = build_network(config, torso_dtype)
    model = model.to_empty(device="cpu")
    load_state_dict_into(model, read_state_dict(weights), weights.name)
    return model.to(device).eval()


def _read_config(path: Path) -> dict:
    """A TRELLIS ``.json`` (a damaged one is one line naming the file and line)."""
    return read_json(path, "TRELLIS config", "re-download the weights")


def read_pipeline(folder: str | os.PathLike) -> dict:
    """``args`` of ``folder/pipeline.json`` with checkpoint stems resolved to local paths."""
    folder = Path(folder)
    cfg_file = folder / "pipeline.json"
    if not cfg_file.is_file():
        raise WeightsNotFoundError(
            f"{folder}: no pipeline.json; download TRELLIS-image-large with `huggingface-cli download "
            f"microsoft/TRELLIS-image-large --local-dir {folder}` or pass --weights tiny for the random stand-in")
    args = _read_config(cfg_file).get("args", {})
    models = {}
    for key in NETWORK_KEYS:
        rel = args.get("models", {}).get(key)
        if rel is None:
            raise WeightsNotFoundError(f"{cfg_file}: no models.{key}")
        stem = folder / rel
        if not stem.with_name(stem.name + ".json").is_file():
            raise WeightsNotFoundError(f"{cfg_file}: models.{key} = {rel!r} is not under {folder} "
                                       "(checkpoints in other repositories must be downloaded next to it)")
        models[key] = stem
    return {**{k: SAMPLERS[k] for k in SAMPLERS}, "slat_normalization": SLAT_NORMALIZATION,
            **{k: v for k, v in args.items() if k != "models"}, "models": models}


def pipeline_info(folder: str | os.PathLike) -> dict:
    """``{"note", "stand_in"}`` of a weights folder (random folders written here are stand-ins)."""
    f = Path(folder) / "pipeline.json"
    data = _read_config(f) if f.is_file() else {}
    return {"note": data.get("note", "TRELLIS-image-large weights"), "stand_in": bool(data.get("stand_in", False))}


def resolve_photo3d_checkpoint(spec: str) -> Path:
    """``"photo3d"`` -> ``$PHOTO3D_TRELLIS_CHECKPOINT``; anything else is a folder path."""
    path = Path(os.environ.get("PHOTO3D_TRELLIS_CHECKPOINT", "")) if spec == "photo3d" else Path(spec)
    if spec == "photo3d" and not os.environ.get("PHOTO3D_TRELLIS_CHECKPOINT"):
        raise WeightsNotFoundError(f"--checkpoint photo3d needs Photo3D's fine-tuned TRELLIS: {PHOTO3D_DOWNLOAD}")
    if not path.is_dir():
        raise WeightsNotFoundError(f"{path}: no such Photo3D checkpoint folder; {PHOTO3D_DOWNLOAD}")
    return path


def load_photo3d_stage2(folder: Path, flow_cfg_base: dict, decoder: nn.Module, torso_dtype: torch.dtype | None,
                        device) -> tuple[nn.Module, dict]:
    """Photo3D's fine-tuned SLAT flow (replaces the pipeline's) and decoder weights (loaded into ``decoder``).

    Returns:
        ``(flow, notes)`` where ``notes`` says which files loaded and which keys were skipped or kept.
    """
    flow_file = next((folder / n for n in PHOTO3D_FLOW_FILES
                      if (folder / n).is_file()), None)
    dec_file = folder / "decoder.safetensors"
    if flow_file is None or not dec_file.is_file():
        raise WeightsNotFoundError(f"{folder}: want slat_denoiser.pt (or .safetensors) and decoder.safetensors; "
                                   + PHOTO3D_DOWNLOAD)
    cfg_file = folder / "config.json"
    config = network_config(_read_config(cfg_file), str(cfg_file)) if cfg_file.is_file() else flow_cfg_base
    with torch.device("meta"):
        flow = build_network(config, torso_dtype)
    flow = flow.to_empty(device="cpu")
    load_state_dict_into(flow, read_state_dict(flow_file), flow_file.name)
    state = read_state_dict(dec_file)
    kept = sorted(set(decoder.state_dict()) - set(state))
    skipped = load_state_dict_into(decoder, {k: v.to(device) for k, v in state.items()}, dec_file.name,
                                   skip_prefixes=(DINO_COND_PREFIX,), allow_missing=True)
    notes = {"slat_flow_model": str(flow_file), "slat_decoder_gs": str(dec_file),
             "decoder_keys_kept_from_base": len(kept),
             "decoder_keys_skipped": f"{len(skipped)} DINOv3 cross-attention tensors ({DINO_COND_PREFIX}*; "
                                     "Photo3D's optional --use-dino-cond path is not implemented)" if skipped else "none"}
    return flow.to(device).eval(), notes


def write_random_pipeline(folder: str | os.PathLike, preset_name: str = "tiny", seed: int = 0) -> Path:
    """A TRELLIS-layout folder with random weights (``pipeline.json``, ``ckpts/``, ``dinov2/``).

    ``preset_name``: ``"tiny"`` (seconds on a CPU) or ``"trellis-image-large"`` (the published
    sizes, for timing). It is a stand-in for tests and dry runs, never the paper's model;
    ``pipeline.json`` says so.
    """
    save = require("safetensors.torch", "writing TRELLIS checkpoints").save
    folder = Path(folder)
    nets = preset(preset_name)
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        models = {}
        for key, cfg in nets.items():
            stem = f"ckpts/{key}_{preset_name}_random"
            net = build_network(cfg)
            atomic_write_json(folder / f"{stem}.json", cfg)
            atomic_write_bytes(folder / f"{stem}.safetensors",
                               save({k: v.contiguous() for k, v in net.state_dict().items()}))
            models[key] = stem
        tf = require("transformers", "the random DINOv2 conditioner")
        dino = tf.Dinov2WithRegistersModel(tf.Dinov2WithRegistersConfig(**DINOV2[preset_name]))
        dino.save_pretrained(folder / "dinov2")
    finally:
        torch.random.set_rng_state(gen_state)
    atomic_write_json(folder / "pipeline.json", {
        "name": "TrellisImageTo3DPipeline", "stand_in": True,
        "note": f"random weights ({preset_name} preset, seed {seed}): a stand-in for tests, not TRELLIS",
        "args": {"models": models, **SAMPLERS, "slat_normalization": SLAT_NORMALIZATION, "image_cond_model": "dinov2"},
    })
    return folder


def locate_weights(folder: str | os.PathLike | None = None):
    """Where TRELLIS-image-large is on this machine (nothing loaded): ``folder``, else the hub cache.

    A folder counts when :func:`read_pipeline` accepts it (``pipeline.json`` and every network's
    ``ckpts/<name>.json``).

    Returns:
        A :class:`~photo3d.encoders.registry.WeightsLocation`.
    """
    from photo3d.encoders.registry import WeightsLocation, locate_weights as locate_known

    if folder is None:
        cached = locate_known("trellis-image-large")
        if not cached.found:
            return cached
        folder, via = cached.where, cached.via
    else:
        via = "path"
    try:
        read_pipeline(folder)
    except Photo3DError as exc:  # missing files, or a damaged pipeline.json (one line either way)
        return WeightsLocation("trellis-image-large", False, None, via, str(exc))
    return WeightsLocation("trellis-image-large", True, str(folder), via, "")


def locate_photo3d_checkpoint(spec: str = "photo3d"):
    """Where Photo3D's fine-tuned stage 2 is (``$PHOTO3D_TRELLIS_CHECKPOINT`` or a folder), as a
    :class:`~photo3d.encoders.registry.WeightsLocation`; nothing loaded."""
    from photo3d.encoders.registry import WeightsLocation

    via = "$PHOTO3D_TRELLIS_CHECKPOINT" if spec == "photo3d" else "path"
    try:
        folder = resolve_photo3d_checkpoint(spec)
    except WeightsNotFoundError as exc:
        return WeightsLocation("photo3d-trellis", False, None, via, str(exc))
    has_flow = any((folder / n).is_file() for n in PHOTO3D_FLOW_FILES)
    if not (has_flow and (folder / "decoder.safetensors").is_file()):
        return WeightsLocation("photo3d-trellis", False, None, via,
                               f"{folder}: want slat_denoiser.pt (or .safetensors) and decoder.safetensors")
    return WeightsLocation("photo3d-trellis", True, str(folder), via, "")
