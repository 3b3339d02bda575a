"""OBJ + MTL, and the other mesh formats trimesh reads (PLY, STL, OFF, ...), as one merged Mesh.

OBJ texture coordinates have v pointing *up* with (0, 0) at the bottom-left of the image; they
are flipped to the image convention of :mod:`photo3d.assets.mesh`. A ``map_Kd`` texture
replaces the ``Kd`` colour (the factor becomes white), which is how most viewers show OBJ files.
PLY/STL/... are read as geometry, plus vertex colours when the file has them.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from photo3d.assets.mesh import Material, Mesh
from photo3d.assets.textures import decode_texture
from photo3d.errors import AssetError
from photo3d.io.images import pil_to_array


def load_trimesh_format(path: str | Path) -> tuple[Mesh, dict[str, Any]]:
    """Read an OBJ/PLY/STL/... file with trimesh into one merged mesh in file coordinates.

    Args:
        path: the mesh file (an OBJ's ``.mtl`` and textures next to it).

    Returns:
        ``(mesh, meta)`` as :func:`photo3d.assets.gltf.load_gltf`.

    Raises:
        AssetError: unreadable file, no faces, or a ``map_Kd`` texture that is missing/corrupt.
    """
    import trimesh  # deferred: trimesh pulls in a lot, and glTF files never need it

    path = Path(path)
    try:
        scene = trimesh.load(path, force="scene", process=False)
    except Exception as exc:  # trimesh raises anything from ValueError to IndexError
        raise AssetError(f"{path}: trimesh cannot read this file ({type(exc).__name__}: {exc}); "
                         "check the file or convert it to GLB") from exc
    map_kd = _mtl_textures(path) if path.suffix.lower() == ".obj" else {}
    warnings: list[str] = []
    materials: list[Material] = []
    by_key: dict[Any, int] = {}
    verts, faces, uvs, colors, fmat, offset, n_meshes = [], [], [], [], [], 0, 0
    for node in scene.graph.nodes_geometry:
        matrix, geom_name = scene.graph[node]
        geom = scene.geometry[geom_name]
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue
        n_meshes += 1
        v = np.asarray(geom.vertices, dtype=np.float64) @ matrix[:3, :3].T + matrix[:3, 3]
        f = np.asarray(geom.faces, dtype=np.int64)
        if np.linalg.det(matrix[:3, :3]) < 0:
            f = f[:, ::-1]
        visual = geom.visual
        mat_id = _material(visual, materials, by_key, map_kd, path)
        uv = getattr(visual, "uv", None) if visual.kind == "texture" else None
        if uv is not None and len(uv) == len(v):
            uv = np.asarray(uv, dtype=np.float64).copy()
            uv[:, 1] = 1.0 - uv[:, 1]  # OBJ / trimesh: v up -> image convention: v down
        else:
            uv = None
        col = None
        if visual.kind == "vertex":
            col = np.asarray(visual.vertex_colors, dtype=np.float32)[:, :4] / 255.0
        verts.append(v), faces.append(f + offset), uvs.append(uv), colors.append(col)
        fmat.append(np.full(len(f), mat_id, dtype=np.int64))
        offset += len(v)
    if not faces:
        raise AssetError(f"{path}: no triangle faces in this file (a point cloud or empty mesh?); "
                         "export a triangle mesh")
    sizes = [len(v) for v in verts]

    def cat(items: list, width: int, fill: float) -> np.ndarray | None:
        if all(x is None for x in items):
            return None
        return np.concatenate([x if x is not None else np.full((n, width), fill) for x, n in zip(items, sizes)])

    mesh = Mesh(vertices=np.concatenate(verts), faces=np.concatenate(faces), uv=cat(uvs, 2, 0.0),
                vertex_colors=cat(colors, 4, 1.0), face_material=np.concatenate(fmat),
                materials=materials or [Material()])
    meta = {"n_meshes": n_meshes, "n_primitives": n_meshes, "warnings": warnings,
            "source_counts": (mesh.num_vertices, mesh.num_faces)}
    return mesh, meta


def _material(visual: Any, materials: list[Material], by_key: dict[Any, int],
              map_kd: dict[str, Path], path: Path) -> int:
    """Index of the Material for a trimesh visual, creating it on first sight."""
    mat = getattr(visual, "material", None)
    key = id(mat) if mat is not None else None
    if key in by_key:
        return by_key[key]
    name, factor, texture = "default", np.ones(4, np.float32), None
    if mat is not None:
        name = getattr(mat, "name", None) or f"material_{len(materials)}"
        image = getattr(mat, "image", None) or getattr(mat, "baseColorTexture", None)
        if image is None and name in map_kd:
            # trimesh drops textures it cannot read without a word: say which file is wrong
            texture = _read_texture_file(map_kd[name], path)
        elif image is not None:
            texture = pil_to_array(image)
        diffuse = getattr(mat, "diffuse", None)
        if diffuse is None:
            diffuse = getattr(mat, "baseColorFactor", None)
        if texture is None and diffuse is not None:
            d = np.asarray(diffuse, dtype=np.float32).reshape(-1)
            factor = d / 255.0 if d.max() > 1.0 or np.asarray(diffuse).dtype == np.uint8 else d
            factor = np.concatenate([factor, np.ones(4 - len(factor), np.float32)])[:4]
    materials.append(Material(name=name, base_color_factor=factor.astype(np.float32),
                              base_color_texture=texture, source_index=len(materials),
                              extras={"alpha_mode": "OPAQUE"}))
    by_key[key] = len(materials) - 1
    return by_key[key]


def _read_texture_file(tex_path: Path, obj_path: Path) -> np.ndarray:
    if not tex_path.is_file():
        raise AssetError(f"{obj_path}: texture '{tex_path.name}' named by map_Kd is missing "
                         f"(looked in {tex_path.parent}); put it there or fix the .mtl")
    return decode_texture(tex_path.read_bytes(), tex_path.name, obj_path)


def _mtl_textures(obj_path: Path) -> dict[str, Path]:
    """material name -> map_Kd file, from the OBJ's mtllib files (for error messages)."""
    out: dict[str, Path] = {}
    try:
        head = obj_path.read_bytes()
    except OSError:
        return out
    for lib in re.findall(rb"^\s*mtllib\s+(.+?)\s*$", head, flags=re.MULTILINE):
        mtl = obj_path.parent / lib.decode("utf-8", "replace")
        if not mtl.is_file():
            continue
        current = None
        for line in mtl.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.strip().split(None, 1)
            if len(parts) == 2 and parts[0] == "newmtl":
                current = parts[1].strip()
            elif len(parts) == 2 and parts[0] == "map_Kd" and current is not None:
                try:
                    tokens = shlex.split(parts[1])
                except ValueError:
                    tokens = parts[1].split()
                if tokens:  # options such as -s 1 1 1 come first; the file name is last
                    out[current] = mtl.parent / tokens[-1]
    return out
