"""Loading released TexGaussian / Photo3D checkpoints (and our own runs) into the octree U-Net.

Layouts read (all from local files):

* **TexGaussian** ``PBR_model.safetensors`` and **Photo3D** ``TexGaussian/model.safetensors``
  (``LaPetitRose/Photo3D_models``): the ``state_dict`` of TexGaussian's wrapper module, i.e.
  ``model.<unet key>`` and ``ema_model.<unet key>`` (its EMA copy; the released inference uses
  it), possibly ``text_encoder.model.<OpenAI CLIP text key>`` (the frozen CLIP tower, which we
  load from its own files instead) and a ``module.`` prefix from DDP.
* a bare U-Net state dict (``conv_in.weights``, ...);
* a ``photo3d train feedforward`` checkpoint (``checkpoints/*.safetensors``, read with
  :func:`photo3d.train.checkpoint.load_checkpoint`: ``modules.unet`` and the EMA ``shadow``
  under ``unet.``).

Only ``.safetensors`` files are read (nothing is unpickled); the released checkpoints are
safetensors.

Our module names equal TexGaussian's (:mod:`.unet`), and ocnn 2.2.0-2.3.3 keep the parameter
names and shapes the checkpoints imply (``OctreeConv.weights [27, C_in, C_out]`` + ``bias``,
``OctreeGroupNorm.weights/bias [1, C]``, ``Conv1x1.linear``), so the mapping is a prefix strip.
Loading is strict for the U-Net: a missing tensor or a shape mismatch is an error naming them.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from photo3d._optional import require
from photo3d.errors import InputError, WeightsNotFoundError
from photo3d.train.checkpoint import FORMAT as CHECKPOINT_FORMAT
from photo3d.train.checkpoint import load_checkpoint

COPIES = {"ema": "ema_model.", "model": "model."}
TEXT_PREFIX = "text_encoder."
FILE_NAMES = ("model.safetensors", "PBR_model.safetensors", "latest.safetensors")


@dataclass
class LoadReport:
    """What a checkpoint load did (``str()`` is the one-line summary)."""

    path: str
    source: str
    loaded: int
    ignored: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        ign = "; ".join(f"skipped {n} {k}" for k, n in self.ignored.items())
        un = _listing(self.unmatched, 8, ", ")
        return (f"{self.path}: loaded {self.loaded} U-Net tensors from {self.source}"
                + (f"; {ign}" if ign else "") + f"; unmatched keys: {un or 'none'}")

    def to_dict(self) -> dict:
        return {"path": self.path, "source": self.source, "loaded": self.loaded, "ignored": self.ignored,
                "unmatched": self.unmatched}


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """The checkpoint file itself, or the known file inside a folder."""
    p = Path(path)
    if p.is_dir():
        for name in FILE_NAMES:
            if (p / name).is_file():
                return p / name
        cands = sorted(p.glob("*.safetensors"))
        if len(cands) == 1:
            return cands[0]
        raise WeightsNotFoundError(
            f"{p}: no checkpoint inside (looked for {', '.join(FILE_NAMES)} or one *.safetensors)")
    if not p.is_file():
        raise WeightsNotFoundError(
            f"{p}: no such checkpoint; download TexGaussian's PBR_model.safetensors "
            "(huggingface.co/ymxbj/TexGaussian) or Photo3D's TexGaussian/model.safetensors "
            "(huggingface.co/LaPetitRose/Photo3D_models) and pass its path")
    return p


def read_state_dict(path: str | os.PathLike) -> dict:
    """All tensors of a ``.safetensors`` checkpoint on the CPU (a training run's: its state tree)."""
    p = resolve_checkpoint(path)
    if p.suffix != ".safetensors":
        raise InputError(f"{p}: not a .safetensors file; photo3d does not unpickle .pt/.bin checkpoints "
                         "(they can run code); convert it with safetensors.torch.save_file")
    st = require("safetensors", "reading .safetensors checkpoints")
    try:
        with st.safe_open(str(p), framework="pt", device="cpu") as fh:
            run = (fh.metadata() or {}).get("format") == CHECKPOINT_FORMAT
            state = None if run else {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # noqa: BLE001 - any decoder failure (SafetensorError, ...) = unreadable
        raise InputError(f"{p}: not a readable checkpoint ({type(exc).__name__}: {str(exc)[:120]})") from exc
    return load_checkpoint(p) if run else state


def unet_state(state: dict, copy: str = "ema") -> tuple[dict[str, torch.Tensor], str, dict[str, int], list[str]]:
    """Pick the U-Net tensors out of any supported layout.

    Args:
        state: what :func:`read_state_dict` returned.
        copy: ``"ema"`` or ``"model"`` when the checkpoint holds both.

    Returns:
        ``(unet_state_dict, source description, ignored {what: count}, other keys)``.
    """
    if "modules" in state and isinstance(state.get("modules"), dict):  # photo3d train checkpoint
        shadow = state.get("ema", {}).get("shadow", {})
        if copy == "ema" and shadow:
            ema = {k[len("unet."):]: v for k, v in shadow.items() if k.startswith("unet.")}
            return ema, "the run's EMA", {}, []
        return dict(state["modules"]["unet"]), "the run's weights", {}, []
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    tops = Counter(k.split(".", 1)[0] + "." for k in state)
    if not any(p in tops for p in COPIES.values()):
        return state, "a bare U-Net state dict", {}, []
    want = COPIES[copy]
    if want not in tops:
        want = next(p for p in COPIES.values() if p in tops)
    out, ignored, other = {}, Counter(), []
    for k, v in state.items():
        if k.startswith(want):
            out[k[len(want):]] = v
        elif k.startswith(TEXT_PREFIX):
            ignored[f"{TEXT_PREFIX}* (the CLIP text tower loads from its own files)"] += 1
        elif any(k.startswith(p) for p in COPIES.values()):
            ignored[f"{k.split('.', 1)[0]}.* (the other copy)"] += 1
        else:
            other.append(k)
    return out, f"{want}*", dict(ignored), other


def load_unet_weights(unet: nn.Module, path: str | os.PathLike, copy: str = "ema",
                      state: dict | None = None) -> LoadReport:
    """Load a checkpoint into ``unet`` key for key (strict for the U-Net's own tensors).

    Args:
        unet: an :class:`~.unet.OctreeUNet` (any device, meta included).
        path: checkpoint file or folder (used for reading unless ``state`` is given, and in messages).
        copy: ``"ema"`` (released inference) or ``"model"``.
        state: an already read state dict.

    Returns:
        :class:`LoadReport`; keys of the checkpoint that are neither U-Net tensors nor known
        extras are listed in it as unmatched.

    Raises:
        InputError: U-Net tensors missing from the checkpoint or of another shape (one line).
    """
    state = read_state_dict(path) if state is None else state
    sd, source, ignored, other = unet_state(state, copy)
    own = unet.state_dict()
    missing = [k for k in own if k not in sd]
    wrong = [f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}"
             for k in own if k in sd and sd[k].shape != own[k].shape]
    if missing or wrong:
        arch = getattr(unet, "arch", None)
        size = f"{arch.model_channels}x{arch.channel_mult}" if arch is not None else "this"
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_listing(missing, 4, ', ')})")
        if wrong:
            parts.append(f"{len(wrong)} of another shape ({_listing(wrong, 3, '; ')})")
        raise InputError(f"{path}: does not fit the {size} octree U-Net: {', '.join(parts)}; "
                         "pick the matching --model or check the file")
    unmatched = sorted(other + [k for k in sd if k not in own])
    unet.load_state_dict({k: sd[k] for k in own}, strict=True)
    return LoadReport(str(path), source, len(own), ignored, unmatched)


def export_released_layout(run_checkpoint: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Write a training run's U-Net in the released layout: ``model.*`` (last weights) + ``ema_model.*``.

    The file loads here (:func:`load_unet_weights`) and key for key into TexGaussian's own
    wrapper module, so a fine-tune made with ``photo3d train feedforward`` runs in either code.

    Args:
        run_checkpoint: a ``photo3d train feedforward`` checkpoint (``checkpoints/*.safetensors``).
        path: the ``.safetensors`` file to write (atomically).
    """
    from photo3d.io import atomic_path

    state = read_state_dict(run_checkpoint)
    weights, _, _, _ = unet_state(state, "model")
    ema, _, _, _ = unet_state(state, "ema")
    tensors = {f"model.{k}": v.contiguous() for k, v in weights.items()}
    tensors.update({f"ema_model.{k}": v.to(weights[k].dtype).contiguous() for k, v in ema.items()})
    st = require("safetensors.torch", "writing .safetensors checkpoints")
    with atomic_path(path) as tmp:
        st.save_file(tensors, str(tmp), metadata={"format": "pt"})
    return Path(path)


def _listing(items: list[str], n: int, sep: str) -> str:
    """The first ``n`` items, then how many more."""
    more = f"{sep}... (+{len(items) - n} more)" if len(items) > n else ""
    return sep.join(items[:n]) + more


def locate_weights(path: str | os.PathLike | None = None):
    """Where TexGaussian's U-Net checkpoint is (nothing loaded): ``path`` (a file or a folder, as
    :func:`resolve_checkpoint` reads it), else ``PBR_model.safetensors`` of ``ymxbj/TexGaussian``
    in the Hugging Face cache.

    Returns:
        A :class:`~photo3d.encoders.registry.WeightsLocation` whose ``where`` is the file.
    """
    from photo3d.encoders.registry import WeightsLocation, locate_weights as locate_known

    if path is None:
        cached = locate_known("texgaussian")
        if not cached.found:
            return cached
        return WeightsLocation("texgaussian", True, str(Path(cached.where) / FILE_NAMES[1]), cached.via, "")
    try:
        return WeightsLocation("texgaussian", True, str(resolve_checkpoint(path)), "path", "")
    except WeightsNotFoundError as exc:
        return WeightsLocation("texgaussian", False, None, "path", str(exc))
