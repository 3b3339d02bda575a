"""GLB writing helpers: a fresh GLB from a merged Mesh, and repacking a copied source document.

The repacker keeps a copied document valid after its base-colour images were swapped: it drops
textures and images nothing refers to any more, embeds external/data-URI images, and packs all
remaining buffer views into one BIN buffer (4-byte aligned).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from photo3d.assets.gltf_file import GltfFile, write_glb
from photo3d.assets.mesh import Mesh
from photo3d.assets.normalize import transform_points
from photo3d.assets.textures import encode_texture

_FLOAT, _UINT32 = 5126, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_LINEAR, _LINEAR_MIPMAP_LINEAR, _REPEAT = 9729, 9987, 10497


def texture_infos(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every textureInfo (``{"index": ...}`` under a ``*Texture`` key) in the materials,
    extensions included."""
    stack: list[Any] = list(doc.get("materials", []))
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and key.endswith("Texture") and "index" in value:
                    yield value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _image_refs(texture: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(dict, key) pairs holding image indices in a texture (``source`` and extension sources)."""
    if "source" in texture:
        yield texture, "source"
    for ext in texture.get("extensions", {}).values():
        if isinstance(ext, dict) and "source" in ext:
            yield ext, "source"


def _mime(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:2] == b"\xff\xd8":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def pack_buffers(doc: dict[str, Any], gf: GltfFile, extra_views: list[bytes]) -> tuple[dict[str, Any], bytes]:
    """Compact textures/images and pack every buffer view into one BIN chunk.

    Args:
        doc: the (copied, edited) document; images may carry ``bufferView = -1 - k`` to refer
            to ``extra_views[k]``. Modified in place and returned.
        gf: the source file, whose buffers hold the original views.
        extra_views: encoded bytes of new images.

    Returns:
        ``(doc, bin_bytes)`` ready for :func:`~photo3d.assets.gltf_file.write_glb`.
    """
    extra_views = list(extra_views)
    # 1. textures that materials still use, then the images those textures use
    infos = list(texture_infos(doc))
    textures = doc.get("textures", [])
    used_tex = sorted({info["index"] for info in infos})
    tex_map = {old: new for new, old in enumerate(used_tex)}
    for info in infos:
        info["index"] = tex_map[info["index"]]
    doc["textures"] = [textures[i] for i in used_tex]
    images = doc.get("images", [])
    used_img = sorted({t[k] for tex in doc["textures"] for t, k in _image_refs(tex)})
    img_map = {old: new for new, old in enumerate(used_img)}
    for tex in doc["textures"]:
        for t, k in _image_refs(tex):
            t[k] = img_map[t[k]]
    dropped_views = {img["bufferView"] for i, img in enumerate(images) if i not in img_map and "bufferView" in img}
    doc["images"] = [images[i] for i in used_img]
    for old, img in zip(used_img, doc["images"]):
        if "uri" in img:  # external file or data URI: embed it, a GLB is one file
            data, _ = gf.image_bytes(old)
            img.pop("uri")
            img["bufferView"] = -1 - len(extra_views)
            img.setdefault("mimeType", _mime(data))
            extra_views.append(data)
    for key in ("textures", "images"):
        if not doc[key]:
            doc.pop(key)

    # 2. buffer views still referenced (anything not only used by a dropped image is kept)
    accessors = doc.get("accessors", [])
    keep_refs = {a["bufferView"] for a in accessors if "bufferView" in a}
    for a in accessors:
        sp = a.get("sparse")
        if sp:
            keep_refs |= {sp["indices"]["bufferView"], sp["values"]["bufferView"]}
    keep_refs |= {img["bufferView"] for img in doc.get("images", []) if img.get("bufferView", -1) >= 0}
    old_views = doc.get("bufferViews", [])
    keep = [i for i in range(len(old_views)) if i in keep_refs or i not in dropped_views]

    # 3. pack
    chunks, views, pos, view_map = [], [], 0, {}
    def add(data: bytes | memoryview, view: dict[str, Any]) -> int:
        nonlocal pos
        pad = -pos % 4
        chunks.append(b"\0" * pad)
        pos += pad
        views.append({**view, "buffer": 0, "byteOffset": pos, "byteLength": len(data)})
        chunks.append(bytes(data))
        pos += len(data)
        return len(views) - 1

    for i in keep:
        view = {k: v for k, v in old_views[i].items() if k not in ("buffer", "byteOffset", "byteLength")}
        view_map[i] = add(gf.view_bytes(i), view)
    for k, data in enumerate(extra_views):
        view_map[-1 - k] = add(data, {})
    for a in accessors:
        if "bufferView" in a:
            a["bufferView"] = view_map[a["bufferView"]]
        sp = a.get("sparse")
        if sp:
            sp["indices"]["bufferView"] = view_map[sp["indices"]["bufferView"]]
            sp["values"]["bufferView"] = view_map[sp["values"]["bufferView"]]
    for img in doc.get("images", []):
        img["bufferView"] = view_map[img["bufferView"]]
    doc["bufferViews"] = views
    if not views:
        doc.pop("bufferViews")
    return doc, b"".join(chunks)


def build_glb(mesh: Mesh, matrix: np.ndarray, textures: dict[int, np.ndarray],
              metallic_roughness: dict[int, np.ndarray] | None = None) -> bytes:
    """A fresh GLB holding ``mesh`` with vertices mapped by ``matrix``.

    Args:
        mesh: the merged mesh (vertices ``[V, 3]``, uv ``[V, 2]`` image convention = glTF's).
        matrix: ``[4, 4]`` similarity applied to positions (normals get its rotation).
        textures: material index -> ``[H, W, 3|4]`` uint8 base-colour texture.
        metallic_roughness: material index -> ``[H, W, 3]`` uint8 metallic-roughness texture
            (G roughness, B metallic); its material's factors are written as 1.

    Returns:
        GLB bytes: one node, one mesh, one primitive per used material.
    """
    chunks: list[bytes] = []
    doc: dict[str, Any] = {"asset": {"version": "2.0", "generator": "photo3d export_glb"},
                           "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
                           "bufferViews": [], "accessors": []}
    pos = 0

    def view(data: bytes, target: int | None = None) -> int:
        nonlocal pos
        pad = -pos % 4
        chunks.append(b"\0" * pad)
        pos += pad
        v = {"buffer": 0, "byteOffset": pos, "byteLength": len(data)}
        if target is not None:
            v["target"] = target
        doc["bufferViews"].append(v)
        chunks.append(data)
        pos += len(data)
        return len(doc["bufferViews"]) - 1

    def accessor(arr: np.ndarray, kind: str, target: int, minmax: bool = False) -> int:
        comp = _UINT32 if arr.dtype == np.uint32 else _FLOAT
        acc = {"bufferView": view(np.ascontiguousarray(arr).tobytes(), target), "componentType": comp,
               "count": len(arr), "type": kind}
        if minmax:
            acc["min"], acc["max"] = arr.min(0).tolist(), arr.max(0).tolist()
        doc["accessors"].append(acc)
        return len(doc["accessors"]) - 1

    verts = transform_points(matrix, mesh.vertices).astype(np.float32)
    attrs = {"POSITION": accessor(verts, "VEC3", _ARRAY_BUFFER, minmax=True)}
    if mesh.normals is not None:
        n = mesh.normals.astype(np.float64) @ matrix[:3, :3].T
        n = (n / np.clip(np.linalg.norm(n, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)
        attrs["NORMAL"] = accessor(n, "VEC3", _ARRAY_BUFFER)
    if mesh.uv is not None:
        attrs["TEXCOORD_0"] = accessor(mesh.uv.astype(np.float32), "VEC2", _ARRAY_BUFFER)
    if mesh.vertex_colors is not None:
        attrs["COLOR_0"] = accessor(mesh.vertex_colors.astype(np.float32), "VEC4", _ARRAY_BUFFER)

    prims = []
    order = np.argsort(mesh.face_material, kind="stable")
    ids, starts = np.unique(mesh.face_material[order], return_index=True)
    ends = list(starts[1:]) + [len(order)]
    for mat_id, s, e in zip(ids, starts, ends):
        idx = mesh.faces[order[s:e]].astype(np.uint32).reshape(-1)
        prims.append({"attributes": dict(attrs), "material": int(mat_id),
                      "indices": accessor(idx, "SCALAR", _ELEMENT_ARRAY_BUFFER), "mode": 4})
    doc["meshes"] = [{"primitives": prims}]

    doc["materials"] = []
    for i, mat in enumerate(mesh.materials):
        ex = mat.extras
        pbr = {"baseColorFactor": [float(x) for x in mat.base_color_factor],
               "metallicFactor": float(ex.get("metallic_factor", 0.0)),
               "roughnessFactor": float(ex.get("roughness_factor", 1.0))}
        for key, maps in (("baseColorTexture", textures), ("metallicRoughnessTexture", metallic_roughness or {})):
            if i not in maps:
                continue
            doc.setdefault("images", []).append({"bufferView": view(encode_texture(maps[i])), "mimeType": "image/png"})
            doc.setdefault("samplers", [{"magFilter": _LINEAR, "minFilter": _LINEAR_MIPMAP_LINEAR,
                                         "wrapS": _REPEAT, "wrapT": _REPEAT}])
            doc.setdefault("textures", []).append({"source": len(doc["images"]) - 1, "sampler": 0})
            pbr[key] = {"index": len(doc["textures"]) - 1, "texCoord": 0}
        if "metallicRoughnessTexture" in pbr:
            pbr["metallicFactor"] = pbr["roughnessFactor"] = 1.0
        m = {"name": mat.name, "pbrMetallicRoughness": pbr, "alphaMode": ex.get("alpha_mode", "OPAQUE"),
             "doubleSided": bool(ex.get("double_sided", False))}
        if m["alphaMode"] == "MASK":
            m["alphaCutoff"] = float(ex.get("alpha_cutoff", 0.5))
        if any(ex.get("emissive_factor", [0, 0, 0])):
            m["emissiveFactor"] = [float(x) for x in ex["emissive_factor"]]
        doc["materials"].append(m)
    return write_glb(doc, b"".join(chunks))
