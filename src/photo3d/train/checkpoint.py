"""Atomic checkpoints holding everything an exact resume needs, as safetensors + JSON.

A checkpoint is one ``.safetensors`` file: every tensor of the state (weights, EMA, optimizer
moments, RNG states) is a safetensors entry named by its path in the state (``modules/flow/...``),
and the rest of the state's structure (steps, learning-rate schedule, numpy/python RNG states,
config) is JSON in the file's header, with markers for what JSON cannot say (tuples, non-string
keys, numpy arrays). Loading parses JSON and raw tensors only: no pickle, no code runs, so a
checkpoint from anywhere is safe to open. Older pickled ``.pt`` checkpoints are refused.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from photo3d._optional import require
from photo3d.errors import InputError
from photo3d.io import atomic_path

FORMAT = "photo3d-checkpoint/1"
SUFFIX = ".safetensors"
LATEST = "latest" + SUFFIX


def checkpoint_name(step: int) -> str:
    """``step_0000100.safetensors``."""
    return f"step_{step:07d}{SUFFIX}"


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` to ``path`` atomically; also refreshes ``latest.safetensors`` beside it.

    ``state`` holds: ``step``, ``modules`` (state dicts), ``ema``, ``optimizer``, ``scheduler``,
    ``rng`` (torch/numpy/python/CUDA), ``generators`` (explicit torch generators' states),
    ``data`` (micro-step and seed of the data order) and ``config``.
    """
    st = require("safetensors.torch", "training checkpoints")
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    tree = _encode(state, tensors, "")
    with atomic_path(path) as tmp:
        st.save_file(tensors, str(tmp), metadata={"format": FORMAT, "state": json.dumps(tree)})
    with atomic_path(path.parent / LATEST) as tmp:
        shutil.copyfile(path, tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors on CPU)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint; pass --resume PATH or --resume auto with an existing run")
    if path.suffix != SUFFIX:
        raise InputError(f"{path}: not a {SUFFIX} checkpoint; photo3d does not unpickle .pt files (they can run "
                         "code); resume from a checkpoint written by this version")
    safetensors = require("safetensors", "training checkpoints")
    try:
        with safetensors.safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: say so in one line
        raise InputError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: not a photo3d checkpoint (format {meta.get('format')!r})")
    try:
        state = _decode(json.loads(meta["state"]), tensors)
    except (KeyError, TypeError, ValueError) as exc:  # a damaged header: its JSON or a tensor it names
        raise InputError(f"{path}: damaged checkpoint header ({type(exc).__name__}: {exc}); resume from an "
                         "earlier step_*.safetensors") from exc
    if not isinstance(state, dict) or not {"step", "modules"} <= set(state):
        raise InputError(f"{path}: damaged checkpoint (no step or modules); resume from an earlier "
                         "step_*.safetensors")
    return state


# JSON encoding of the state: plain JSON where it can, {"__kind__": ...} markers where it cannot.
def _encode(obj: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    if isinstance(obj, torch.Tensor):
        key = where or "tensor"
        while key in tensors:
            key += "#"
        tensors[key] = obj.detach().cpu().contiguous().clone()  # own storage: safetensors refuses shared views
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        wide = obj.astype(np.int64) if obj.dtype.kind == "u" and obj.dtype.itemsize > 1 else obj
        ref = _encode(torch.from_numpy(np.ascontiguousarray(wide)), tensors, where)
        return {"__ndarray__": ref["__tensor__"], "dtype": obj.dtype.str}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, f"{where}/{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, tensors, f"{where}/{i}") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, tensors, f"{where}/{k}") for k, v in obj.items()}
        return {"__items__": [[_encode(k, tensors, f"{where}/key"), _encode(v, tensors, f"{where}/{k}")]
                              for k, v in obj.items()]}
    raise TypeError(f"checkpoint state at {where or '/'} holds a {type(obj).__name__}, which cannot be stored")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__ndarray__" in obj:
        return tensors[obj["__ndarray__"]].numpy().astype(np.dtype(obj["dtype"]))
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["__items__"]}
    return {k: _decode(v, tensors) for k, v in obj.items()}
