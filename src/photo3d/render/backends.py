"""Choosing a render backend: mesh visibility ``torch`` (always), ``gl`` (moderngl + EGL),
``nvdiffrast`` (CUDA); Gaussian splatting ``torch`` (always) or ``gsplat`` (CUDA).

``"auto"`` picks nvdiffrast for CUDA tensors when it is installed, the OpenGL backend for CPU
tensors when a headless context can be created, and the pure-PyTorch rasteriser otherwise. All
three return the same :class:`~photo3d.render.base.Fragments`, so shading never depends on the
choice.
"""

from __future__ import annotations

import functools

import torch

from photo3d._optional import install_hint, is_available
from photo3d.device import cuda_available
from photo3d.errors import InputError, MissingDependencyError
from photo3d.render.base import Rasterizer

BACKENDS = ("torch", "gl", "nvdiffrast")
GAUSSIAN_BACKENDS = ("torch", "gsplat")


@functools.lru_cache(maxsize=1)
def _nvdiffrast_available() -> bool:
    if not (cuda_available() and is_available("nvdiffrast")):
        return False
    try:
        import nvdiffrast.torch  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken build (missing CUDA toolkit, ABI mismatch) counts as absent
        return False
    return True


def available_backends() -> dict[str, bool]:
    """Which backends can run here, e.g. ``{"torch": True, "gl": True, "nvdiffrast": False}``.

    The OpenGL probe creates a context once per process and caches the answer.
    """
    from photo3d.render.raster_gl import gl_available

    return {"torch": True, "gl": gl_available(), "nvdiffrast": _nvdiffrast_available()}


def resolve_backend(name: str = "auto", device: str | torch.device = "cpu", kind: str = "mesh") -> str:
    """The concrete backend ``name`` means on ``device`` (``"auto"`` resolved, others checked).

    Args:
        name: ``"auto"`` or a backend of ``kind``.
        device: where the tensors live.
        kind: ``"mesh"`` (visibility: ``torch``, ``gl``, ``nvdiffrast``) or ``"gaussians"``
            (splatting: ``torch``, ``gsplat``).

    Raises:
        InputError: unknown name, or a CUDA-only backend off CUDA.
        MissingDependencyError: the requested backend cannot run here.
    """
    device = torch.device(device)
    names = BACKENDS if kind == "mesh" else GAUSSIAN_BACKENDS
    if name == "auto":
        if kind == "gaussians":
            return "gsplat" if device.type == "cuda" and is_available("gsplat") else "torch"
        if device.type == "cuda" and _nvdiffrast_available():
            return "nvdiffrast"
        if device.type == "cpu" and available_backends()["gl"]:
            return "gl"
        return "torch"
    if name not in names:
        what = "render backend" if kind == "mesh" else "Gaussian render backend"
        raise InputError(f"unknown {what} {name!r}; choose one of auto, {', '.join(names)}")
    if name in ("nvdiffrast", "gsplat") and device.type != "cuda":
        raise InputError(f"the {name} backend runs on CUDA only; use --device cuda or --backend torch")
    if kind == "gaussians":
        return name
    if name != "torch" and not available_backends()[name]:
        hint = {"gl": f"{install_hint('moderngl')}; apt-get install libegl-mesa0 libgl1-mesa-dri",
                "nvdiffrast": install_hint("nvdiffrast")}[name]
        raise MissingDependencyError(f"render backend {name!r} is not available here ({hint}); use --backend torch")
    return name


@functools.cache
def _instance(name: str) -> Rasterizer:
    if name == "torch":
        from photo3d.render.raster_torch import TorchRasterizer

        return TorchRasterizer()
    if name == "gl":
        from photo3d.render.raster_gl import GLRasterizer

        return GLRasterizer()
    from photo3d.render.raster_nvdiffrast import NvdiffrastRasterizer

    return NvdiffrastRasterizer()


def get_rasterizer(name: str = "auto", device: str | torch.device = "cpu") -> Rasterizer:
    """A (shared) rasteriser instance for backend ``name`` on ``device``.

    Raises:
        InputError: unknown name, or nvdiffrast requested off CUDA.
        MissingDependencyError: the requested backend cannot run here.
    """
    return _instance(resolve_backend(name, device))
