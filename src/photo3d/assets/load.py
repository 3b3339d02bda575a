"""``load_asset``: any supported mesh file -> one :class:`~photo3d.assets.mesh.Asset` in the world frame."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from photo3d.assets.gltf import load_gltf
from photo3d.assets.gltf_file import GLB_MAGIC
from photo3d.assets.mesh import Asset
from photo3d.assets.normalize import Up, normalize_to_world
from photo3d.errors import AssetError

GLTF_SUFFIXES = (".glb", ".gltf")


def load_asset(path: str | os.PathLike, *, normalize: bool = True, up: Up = "y") -> Asset:
    """Load a mesh file as one merged, per-face-material mesh.

    Supported: GLB, glTF (+ external ``.bin`` / images), OBJ + MTL (``map_Kd`` textures), and
    the other formats trimesh reads (PLY, STL, OFF, ...: geometry and vertex colours).

    Args:
        path: the file.
        normalize: map into the world frame (Z up, centred, longest side 1; see
            :mod:`photo3d.assets.normalize`). ``False`` keeps the file's coordinates,
            ``to_world`` is the identity and ``up`` is not used.
        up: up axis of the source (``"y"`` for glTF and by default for OBJ/PLY/STL; ``"z"``
            for Z-up exports).

    Returns:
        The asset: ``mesh`` (vertices ``[V, 3]``, faces ``[F, 3]``, uv ``[V, 2]`` in image
        convention or None, ...), ``to_world`` ``[4, 4]`` (source -> world), and ``meta`` with
        ``format``, ``n_meshes``, ``n_materials``, ``textured``, ``warnings``.

    Raises:
        AssetError: one line naming the file and the fix (missing file, unsupported format,
            no faces, compressed glTF, unreadable or KTX2 texture, corrupt file).

    Example:
        >>> asset = load_asset("src/photo3d/examples/ycb_004_sugar_box/004_sugar_box_1k.glb")
        >>> asset.mesh.num_faces, asset.mesh.materials[0].base_color_texture.shape
        (16384, (1024, 1024, 3))
    """
    path = Path(path)
    if not path.exists():
        raise AssetError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise AssetError(f"{path}: is a folder; pass a mesh file (.glb, .gltf, .obj, .ply, .stl)")
    fmt = path.suffix.lower().lstrip(".")
    try:
        if path.suffix.lower() in GLTF_SUFFIXES or _starts_with_glb_magic(path):
            fmt = "glb" if _starts_with_glb_magic(path) or fmt == "glb" else "gltf"
            mesh, meta = load_gltf(path)
        else:
            _check_trimesh_format(path, fmt)
            from photo3d.assets.obj import load_trimesh_format

            mesh, meta = load_trimesh_format(path)
    except OSError as exc:
        raise AssetError(f"{path}: cannot read the file ({exc.strerror or exc}); check permissions") from exc
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        # malformed documents (dangling indices, wrong types) end up here
        raise AssetError(f"{path}: malformed {fmt.upper()} file ({type(exc).__name__}: {exc}); "
                         "validate it (e.g. https://github.khronos.org/glTF-Validator) or re-export it") from exc
    meta.update(format=fmt, n_materials=len(mesh.materials), textured=mesh.is_textured,
                has_uv=mesh.uv is not None, has_vertex_colors=mesh.vertex_colors is not None,
                uv_generated=False)
    asset = Asset(mesh=mesh, source=path, to_world=np.eye(4), meta=meta)
    return normalize_to_world(asset, up=up) if normalize else asset


def _starts_with_glb_magic(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == GLB_MAGIC


def _check_trimesh_format(path: Path, fmt: str) -> None:
    import trimesh

    if fmt not in trimesh.available_formats():
        raise AssetError(f"{path}: '.{fmt}' is not a supported mesh format; convert it to GLB, "
                         "glTF, OBJ, PLY or STL")
