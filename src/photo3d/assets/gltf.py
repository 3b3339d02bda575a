"""glTF 2.0 (``.glb`` / ``.gltf``) -> one merged :class:`~photo3d.assets.mesh.Mesh` in file coordinates.

Every triangle primitive of every mesh instance in the default scene is placed with its node's
world transform and merged into one mesh; each face keeps the index of its material, and
materials are shared by source material index. glTF texture coordinates already follow the
image convention of :mod:`photo3d.assets.mesh` (v down, (0, 0) = top-left), so they are used
as stored (``KHR_texture_transform`` on the base-colour texture is applied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photo3d.assets.gltf_file import GltfFile, check_extensions, read_gltf_file
from photo3d.assets.mesh import Material, Mesh
from photo3d.assets.textures import KTX2_HINT, decode_texture
from photo3d.errors import AssetError

_TRIANGLES, _STRIP, _FAN = 4, 5, 6
_OTHER_MAPS = ("normalTexture", "occlusionTexture", "emissiveTexture")


@dataclass
class _Parts:
    """Per-primitive arrays collected before the merge."""

    vertices: list[np.ndarray] = field(default_factory=list)
    faces: list[np.ndarray] = field(default_factory=list)
    uv: list[np.ndarray | None] = field(default_factory=list)
    colors: list[np.ndarray | None] = field(default_factory=list)
    normals: list[np.ndarray | None] = field(default_factory=list)
    face_material: list[np.ndarray] = field(default_factory=list)


def load_gltf(path: str | Path) -> tuple[Mesh, dict[str, Any]]:
    """Read a glTF/GLB file into one merged mesh in the file's own (Y-up) coordinates.

    Args:
        path: ``.glb`` or ``.gltf`` file (external ``.bin`` and images next to it).

    Returns:
        ``(mesh, meta)``; ``meta`` has ``n_meshes`` (mesh instances placed in the scene),
        ``n_primitives``, ``warnings`` and ``source_counts`` (vertex/face counts as loaded).

    Raises:
        AssetError: compressed meshes, unreadable/KTX2 textures, no triangles, corrupt file.
    """
    gf = read_gltf_file(path)
    check_extensions(gf)
    doc = gf.doc
    warnings: list[str] = []
    reader = MaterialReader(gf, warnings)
    parts = _Parts()
    n_instances, n_prims, skipped = 0, 0, 0
    for mesh_index, matrix in _mesh_instances(doc):
        n_instances += 1
        for prim in doc["meshes"][mesh_index].get("primitives", []):
            if prim.get("mode", _TRIANGLES) not in (_TRIANGLES, _STRIP, _FAN) or "POSITION" not in prim.get("attributes", {}):
                skipped += 1
                continue
            n_prims += 1
            _add_primitive(gf, prim, matrix, reader, parts)
    if skipped:
        warnings.append(f"skipped {skipped} primitive(s) that are points or lines")
    if not parts.faces or sum(len(f) for f in parts.faces) == 0:
        what = "only points or lines" if skipped else "no triangle meshes"
        raise AssetError(f"{gf.path}: the file has {what}, so there are no faces to render; "
                         "export a triangle mesh (a point cloud cannot be textured)")
    mesh = _merge(parts, reader.materials)
    meta = {"n_meshes": n_instances, "n_primitives": n_prims, "warnings": warnings,
            "source_counts": (mesh.num_vertices, mesh.num_faces)}
    return mesh, meta


def node_matrix(node: dict[str, Any]) -> np.ndarray:
    """``[4, 4]`` local transform of a glTF node (``matrix`` or translation/rotation/scale)."""
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
    t = np.asarray(node.get("translation", [0, 0, 0]), dtype=np.float64)
    x, y, z, w = np.asarray(node.get("rotation", [0, 0, 0, 1]), dtype=np.float64)
    s = np.asarray(node.get("scale", [1, 1, 1]), dtype=np.float64)
    rot = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    m = np.eye(4)
    m[:3, :3] = rot * s[None, :]
    m[:3, 3] = t
    return m


def _mesh_instances(doc: dict[str, Any]) -> list[tuple[int, np.ndarray]]:
    """``(mesh index, world matrix)`` for every node with a mesh in the default scene."""
    nodes = doc.get("nodes", [])
    scenes = doc.get("scenes", [])
    if scenes:
        roots = scenes[doc.get("scene", 0)].get("nodes", [])
    elif nodes:
        children = {c for n in nodes for c in n.get("children", [])}
        roots = [i for i in range(len(nodes)) if i not in children]
    else:  # no node hierarchy at all: draw every mesh once, untransformed
        return [(i, np.eye(4)) for i in range(len(doc.get("meshes", [])))]
    out, stack, seen = [], [(r, np.eye(4)) for r in reversed(roots)], set()
    while stack:
        idx, parent = stack.pop()
        if idx in seen:  # a cycle would be a corrupt file; never loop forever
            continue
        seen.add(idx)
        node = nodes[idx]
        world = parent @ node_matrix(node)
        if "mesh" in node:
            out.append((node["mesh"], world))
        stack.extend((c, world) for c in reversed(node.get("children", [])))
    return out


def _triangles(gf: GltfFile, prim: dict[str, Any], n_vertices: int) -> np.ndarray:
    idx = gf.accessor(prim["indices"]).astype(np.int64) if "indices" in prim else np.arange(n_vertices)
    mode = prim.get("mode", _TRIANGLES)
    if mode == _TRIANGLES:
        return idx[: len(idx) // 3 * 3].reshape(-1, 3)
    k = np.arange(max(len(idx) - 2, 0))
    if mode == _STRIP:  # every other triangle is reversed to keep the winding
        a, b = np.where(k % 2 == 0, k, k + 1), np.where(k % 2 == 0, k + 1, k)
        tri = np.stack([idx[a], idx[b], idx[k + 2]], axis=1)
    else:  # fan
        tri = np.stack([np.full_like(k, idx[0]), idx[k + 1], idx[k + 2]], axis=1)
    return tri


def _add_primitive(gf: GltfFile, prim: dict[str, Any], matrix: np.ndarray,
                   reader: MaterialReader, parts: _Parts) -> None:
    attr = prim["attributes"]
    pos = gf.accessor(attr["POSITION"]).astype(np.float64)
    faces = _triangles(gf, prim, len(pos))
    if len(faces) and (faces.max() >= len(pos) or faces.min() < 0):
        raise AssetError(f"{gf.path}: a primitive indexes vertices that do not exist; "
                         "the file is corrupt, re-export it")
    mat_id, tex_coord, uv_transform = reader.material(prim.get("material"))
    # Primitives may index a subset of a shared vertex buffer: keep only what is used so the
    # bounding box (and thus normalisation) is that of the drawn geometry.
    used = np.zeros(len(pos), dtype=bool)
    used[faces.reshape(-1)] = True
    keep = None if used.all() else np.flatnonzero(used)
    if keep is not None:
        remap = np.full(len(pos), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        faces, pos = remap[faces], pos[keep]
    pick = (lambda a: a) if keep is None else (lambda a: a[keep])

    lin = matrix[:3, :3]
    parts.vertices.append(pos @ lin.T + matrix[:3, 3])
    if np.linalg.det(lin) < 0:  # mirrored node: glTF says the winding flips with it
        faces = faces[:, ::-1]
    parts.faces.append(faces)
    parts.face_material.append(np.full(len(faces), mat_id, dtype=np.int64))

    normals = None
    if "NORMAL" in attr:
        n = pick(gf.accessor(attr["NORMAL"]).astype(np.float64)) @ np.linalg.inv(lin)
        normals = n / np.clip(np.linalg.norm(n, axis=1, keepdims=True), 1e-12, None)
    parts.normals.append(normals)

    uv = None
    key = f"TEXCOORD_{tex_coord}"
    if key in attr:
        uv = pick(gf.accessor(attr[key]).astype(np.float64))
        if uv_transform is not None:
            uv = uv @ uv_transform[:2, :2].T + uv_transform[:2, 2]
    elif reader.materials[mat_id].has_texture:
        reader.warnings.append(f"a primitive with textured material {mat_id} has no {key}; "
                               "it renders with the texture's first texel")
    parts.uv.append(uv)

    colors = None
    if "COLOR_0" in attr:
        c = pick(gf.accessor(attr["COLOR_0"]).astype(np.float32))
        colors = np.concatenate([c, np.ones((len(c), 1), np.float32)], axis=1) if c.shape[1] == 3 else c
    parts.colors.append(colors)


def _merge(parts: _Parts, materials: list[Material]) -> Mesh:
    sizes = [len(v) for v in parts.vertices]
    offsets = np.cumsum([0] + sizes[:-1])
    faces = np.concatenate([f + o for f, o in zip(parts.faces, offsets)])

    def cat(items: list[np.ndarray | None], width: int, fill: float) -> np.ndarray | None:
        if all(x is None for x in items):
            return None
        return np.concatenate([x if x is not None else np.full((n, width), fill) for x, n in zip(items, sizes)])

    return Mesh(
        vertices=np.concatenate(parts.vertices),
        faces=faces,
        uv=cat(parts.uv, 2, 0.0),
        vertex_colors=cat(parts.colors, 4, 1.0),
        normals=cat(parts.normals, 3, 0.0) if all(n is not None for n in parts.normals) else None,
        face_material=np.concatenate(parts.face_material),
        materials=materials or [Material()],
    )


class MaterialReader:
    """Builds :class:`Material` objects once per source material, decoding each image once."""

    def __init__(self, gf: GltfFile, warnings: list[str]):
        self.gf, self.warnings = gf, warnings
        self.materials: list[Material] = []
        self._by_source: dict[int | None, tuple[int, int, np.ndarray | None]] = {}
        self._images: dict[int, np.ndarray] = {}

    def material(self, source: int | None) -> tuple[int, int, np.ndarray | None]:
        """``(our index, texCoord set, 3x3 uv transform or None)`` for a source material index."""
        if source not in self._by_source:
            self._by_source[source] = self._build(source)
        return self._by_source[source]

    def _build(self, source: int | None) -> tuple[int, int, np.ndarray | None]:
        mat = self.gf.doc["materials"][source] if source is not None else {}
        pbr = mat.get("pbrMetallicRoughness", {})
        alpha_mode = mat.get("alphaMode", "OPAQUE")
        info = pbr.get("baseColorTexture")
        texture, image_index, uv_transform = None, None, None
        if info is not None:
            image_index = self._image_of_texture(info["index"])
            texture = self.image(image_index)
            if texture.shape[2] == 4 and alpha_mode == "OPAQUE":
                texture = texture[..., :3]  # glTF: alpha is ignored for OPAQUE materials
            uv_transform = _texture_transform(info.get("extensions", {}).get("KHR_texture_transform"))
        if "KHR_materials_pbrSpecularGlossiness" in mat.get("extensions", {}):
            self.warnings.append(f"material {source} uses specular-glossiness; only its "
                                 "metallic-roughness base colour is used")
        extras = {
            "alpha_mode": alpha_mode,
            "alpha_cutoff": mat.get("alphaCutoff", 0.5),
            "double_sided": mat.get("doubleSided", False),
            "metallic_factor": pbr.get("metallicFactor", 1.0),
            "roughness_factor": pbr.get("roughnessFactor", 1.0),
            "emissive_factor": list(mat.get("emissiveFactor", [0.0, 0.0, 0.0])),
            "maps": [k for k in _OTHER_MAPS if k in mat] + (
                ["metallicRoughnessTexture"] if "metallicRoughnessTexture" in pbr else []),
            "base_color_image": image_index,
            "tex_coord": info.get("texCoord", 0) if info else 0,
        }
        self.materials.append(Material(
            name=mat.get("name") or (f"material_{source}" if source is not None else "default"),
            base_color_factor=np.asarray(pbr.get("baseColorFactor", [1.0, 1.0, 1.0, 1.0]), dtype=np.float32),
            base_color_texture=texture,
            source_index=source,
            extras=extras,
        ))
        return len(self.materials) - 1, extras["tex_coord"], uv_transform

    def _image_of_texture(self, tex_index: int) -> int:
        tex = self.gf.doc["textures"][tex_index]
        ext = tex.get("extensions", {})
        if "source" in tex:
            return tex["source"]
        for key in ("EXT_texture_webp", "EXT_texture_avif"):
            if key in ext:
                return ext[key]["source"]
        if "KHR_texture_basisu" in ext:
            raise AssetError(f"{self.gf.path}: texture {tex_index} is KTX2/Basis only "
                             f"(KHR_texture_basisu), which photo3d cannot decode; {KTX2_HINT}")
        raise AssetError(f"{self.gf.path}: texture {tex_index} has no image; re-export the asset")

    def image(self, index: int) -> np.ndarray:
        if index not in self._images:
            mime = self.gf.doc["images"][index].get("mimeType", "")
            data, name = self.gf.image_bytes(index)
            if mime == "image/ktx2":
                raise AssetError(f"{self.gf.path}: texture '{name}' is KTX2, which photo3d cannot "
                                 f"decode; {KTX2_HINT}")
            self._images[index] = decode_texture(data, name, self.gf.path)
        return self._images[index]


def _texture_transform(ext: dict[str, Any] | None) -> np.ndarray | None:
    """3x3 matrix of ``KHR_texture_transform`` (uv' = T * R * S * uv), or None.

    The rotation is counter-clockwise in glTF's v-down UV space, as implemented by three.js,
    Babylon and Blender and checked by the TextureTransformTest sample (KhronosGroup/glTF#1563:
    the GLSL listing in the extension's README has the opposite sign).
    """
    if not ext:
        return None
    ox, oy = ext.get("offset", [0.0, 0.0])
    sx, sy = ext.get("scale", [1.0, 1.0])
    r = ext.get("rotation", 0.0)
    c, s = np.cos(r), np.sin(r)
    t = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]], dtype=np.float64)
    rot = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]], dtype=np.float64)
    return t @ rot @ np.diag([sx, sy, 1.0])
