"""Tiny glTF / OBJ files for the asset tests, written with pygltflib and plain text."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pygltflib
from PIL import Image

_COMP = {np.dtype(np.float32): 5126, np.dtype(np.uint32): 5125, np.dtype(np.uint16): 5123,
         np.dtype(np.uint8): 5121}
_TYPE = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4"}


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def quadrant_texture(size: int = 8) -> np.ndarray:
    """Top-left quadrant red, the rest blue (rows = v down)."""
    tex = np.zeros((size, size, 3), np.uint8)
    tex[..., 2] = 255
    tex[: size // 2, : size // 2] = (255, 0, 0)
    return tex


class GltfBuilder:
    """Build a glTF document accessor by accessor; save as .glb or .gltf + .bin."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = {"asset": {"version": "2.0"}, "buffers": [], "bufferViews": [],
                                    "accessors": [], "meshes": [], "nodes": [], "materials": []}
        self.bin = bytearray()

    def view(self, data: bytes) -> int:
        self.bin += b"\0" * (-len(self.bin) % 4)
        self.doc["bufferViews"].append({"buffer": 0, "byteOffset": len(self.bin), "byteLength": len(data)})
        self.bin += data
        return len(self.doc["bufferViews"]) - 1

    def accessor(self, arr: np.ndarray, normalized: bool = False) -> int:
        arr = np.ascontiguousarray(arr)
        n = 1 if arr.ndim == 1 else arr.shape[1]
        acc = {"bufferView": self.view(arr.tobytes()), "componentType": _COMP[arr.dtype],
               "count": len(arr), "type": _TYPE[n]}
        if normalized:
            acc["normalized"] = True
        if arr.dtype == np.float32 and n == 3:
            acc["min"], acc["max"] = arr.min(0).tolist(), arr.max(0).tolist()
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def texture(self, image: np.ndarray | bytes, mime: str = "image/png") -> int:
        data = image if isinstance(image, bytes) else png_bytes(image)
        self.doc.setdefault("images", []).append({"bufferView": self.view(data), "mimeType": mime})
        self.doc.setdefault("textures", []).append({"source": len(self.doc["images"]) - 1})
        return len(self.doc["textures"]) - 1

    def material(self, **mat: Any) -> int:
        self.doc["materials"].append(mat)
        return len(self.doc["materials"]) - 1

    def mesh(self, *prims: dict[str, Any]) -> int:
        """Each prim: ``positions``, optional ``faces``, ``uv``, ``colors``, ``material``, ``mode``."""
        out = []
        for p in prims:
            attrs = {"POSITION": self.accessor(np.asarray(p["positions"], np.float32))}
            if "uv" in p:
                attrs["TEXCOORD_0"] = self.accessor(np.asarray(p["uv"], np.float32))
            if "colors" in p:
                col = np.asarray(p["colors"])
                attrs["COLOR_0"] = self.accessor(col, normalized=col.dtype != np.float32)
            prim: dict[str, Any] = {"attributes": attrs}
            if "faces" in p:
                prim["indices"] = self.accessor(np.asarray(p["faces"], np.uint32).reshape(-1))
            for key in ("material", "mode"):
                if key in p:
                    prim[key] = p[key]
            out.append(prim)
        self.doc["meshes"].append({"primitives": out})
        return len(self.doc["meshes"]) - 1

    def node(self, **node: Any) -> int:
        self.doc["nodes"].append(node)
        return len(self.doc["nodes"]) - 1

    def finish(self, roots: list[int] | None = None) -> dict[str, Any]:
        doc = {k: v for k, v in self.doc.items() if v != []}
        if roots is not None:
            doc["scenes"], doc["scene"] = [{"nodes": roots}], 0
        doc["buffers"] = [{"byteLength": len(self.bin)}]
        return doc

    def save_glb(self, path: Path, roots: list[int] | None = None) -> Path:
        doc = self.finish(roots)
        gltf = pygltflib.GLTF2().from_json(json.dumps(doc))
        gltf.set_binary_blob(bytes(self.bin))
        gltf.save_binary(str(path))
        return path

    def save_gltf(self, path: Path, roots: list[int] | None = None) -> Path:
        """.gltf with an external ``<stem>.bin``."""
        doc = self.finish(roots)
        bin_path = path.with_suffix(".bin")
        bin_path.write_bytes(bytes(self.bin))
        doc["buffers"][0]["uri"] = bin_path.name
        path.write_text(json.dumps(doc))
        return path


def triangle_mesh() -> dict[str, np.ndarray]:
    """A unit quad as two triangles in the XY plane, with glTF UVs."""
    return {"positions": np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32),
            "faces": np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
            "uv": np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)}


def read_glb_json(path: Path) -> dict[str, Any]:
    """The JSON chunk of a GLB, read with pygltflib (independent of photo3d)."""
    gltf = pygltflib.GLTF2().load(str(path))
    return json.loads(gltf.to_json())
