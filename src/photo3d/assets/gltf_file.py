"""The glTF 2.0 container: read a ``.glb`` / ``.gltf`` (+ ``.bin``, images) into JSON and bytes.

This module knows the file format only (GLB chunks, buffers, buffer views, accessors, image
bytes); turning a document into a :class:`~photo3d.assets.mesh.Mesh` lives in
:mod:`photo3d.assets.gltf`. Reading the container ourselves, rather than through a mesh
library, lets every failure name the file and the fix, and keeps the source document around so
that :func:`~photo3d.assets.export.export_glb` can copy it and swap only the base-colour images.
"""

from __future__ import annotations

import base64
import json
import struct
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photo3d.errors import AssetError

GLB_MAGIC = b"glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942

# glTF componentType -> numpy dtype (little endian)
_COMPONENT = {5120: "<i1", 5121: "<u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_NUM = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}

# Mesh compression extensions we cannot decode: name -> how to get rid of it.
UNSUPPORTED_COMPRESSION = {
    "KHR_draco_mesh_compression": "Draco",
    "EXT_meshopt_compression": "meshopt",
    "KHR_meshopt_compression": "meshopt",
}
DECOMPRESS_HINT = (
    "decompress it first, e.g. `npx @gltf-transform/cli copy in.glb out.glb` "
    "(or re-export from your tool without mesh compression)"
)


@dataclass
class GltfFile:
    """A parsed glTF document with its binary buffers resolved.

    Attributes:
        path: the file read.
        doc: the JSON document (plain dicts and lists, as in the file).
        buffers: one ``bytes`` per ``doc["buffers"]`` entry (GLB BIN chunk, data URI or file).
    """

    path: Path
    doc: dict[str, Any]
    buffers: list[bytes] = field(default_factory=list)

    def view_bytes(self, index: int) -> memoryview:
        """The bytes of buffer view ``index`` (no copy)."""
        view = self.doc["bufferViews"][index]
        buf = self.buffers[view["buffer"]]
        start = view.get("byteOffset", 0)
        end = start + view["byteLength"]
        if end > len(buf):
            raise AssetError(f"{self.path}: bufferView {index} runs past the end of its buffer; "
                             "the file is truncated or corrupt, re-export it")
        return memoryview(buf)[start:end]

    def accessor(self, index: int) -> np.ndarray:
        """Read accessor ``index`` as ``[count, n]`` (``[count]`` for scalars).

        Normalised integer accessors are returned as float32 in [0, 1] (or [-1, 1]);
        sparse accessors are applied.
        """
        acc = self.doc["accessors"][index]
        dtype = np.dtype(_COMPONENT[acc["componentType"]])
        n = _NUM[acc["type"]]
        count = acc["count"]
        if "bufferView" in acc:
            view = self.doc["bufferViews"][acc["bufferView"]]
            raw = self.view_bytes(acc["bufferView"])
            offset = acc.get("byteOffset", 0)
            stride = view.get("byteStride") or dtype.itemsize * n
            need = offset + stride * (count - 1) + dtype.itemsize * n if count else 0
            if need > len(raw):
                raise AssetError(f"{self.path}: accessor {index} runs past its bufferView; "
                                 "the file is truncated or corrupt, re-export it")
            arr = np.ndarray((count, n), dtype=dtype, buffer=raw, offset=offset,
                             strides=(stride, dtype.itemsize)).copy()
        else:
            arr = np.zeros((count, n), dtype=dtype)
        if "sparse" in acc:
            sp = acc["sparse"]
            ind = sp["indices"]
            idt = np.dtype(_COMPONENT[ind["componentType"]])
            idx = np.frombuffer(self.view_bytes(ind["bufferView"]), dtype=idt,
                                count=sp["count"], offset=ind.get("byteOffset", 0))
            val = sp["values"]
            vals = np.frombuffer(self.view_bytes(val["bufferView"]), dtype=dtype,
                                 count=sp["count"] * n, offset=val.get("byteOffset", 0))
            arr[idx.astype(np.int64)] = vals.reshape(-1, n)
        if acc.get("normalized") and dtype.kind in "iu":
            arr = (arr.astype(np.float32) / np.iinfo(dtype).max).clip(-1.0, 1.0)
        return arr[:, 0] if n == 1 else arr

    def image_bytes(self, index: int) -> tuple[bytes, str]:
        """Encoded bytes of image ``index`` and a name for messages (its URI or ``image N``)."""
        img = self.doc["images"][index]
        name = f"{img['name']} (image {index})" if img.get("name") else f"image {index}"
        if "bufferView" in img:
            return bytes(self.view_bytes(img["bufferView"])), name
        uri = img.get("uri")
        if uri is None:
            raise AssetError(f"{self.path}: image {index} has neither a uri nor a bufferView; "
                             "re-export the asset")
        data = _read_uri(self.path, uri, what=f"image {index}")
        return data, (name if uri.startswith("data:") else uri)


def read_gltf_file(path: str | Path) -> GltfFile:
    """Parse a ``.glb`` or ``.gltf`` file and resolve all its buffers.

    Raises:
        AssetError: not a glTF file, truncated, or an external buffer is missing.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:4] == GLB_MAGIC:
        doc, bin_chunk = _split_glb(path, data)
    else:
        if path.suffix.lower() == ".glb":
            raise AssetError(f"{path}: not a GLB file (it does not start with 'glTF'); "
                             "check that the file is really a binary glTF, or re-export it")
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AssetError(f"{path}: not a glTF JSON file ({exc.__class__.__name__}: {exc}); "
                             "re-export it as .glb or .gltf") from exc
        bin_chunk = None
    if not isinstance(doc, dict) or "asset" not in doc:
        raise AssetError(f"{path}: not a glTF 2.0 document (no 'asset' entry); re-export it")
    buffers = []
    for i, buf in enumerate(doc.get("buffers", [])):
        if "uri" in buf:
            buffers.append(_read_uri(path, buf["uri"], what=f"buffer {i}"))
        elif bin_chunk is not None and i == 0:
            buffers.append(bin_chunk)
        else:
            raise AssetError(f"{path}: buffer {i} has no data (no uri and no GLB BIN chunk); "
                             "the file is corrupt, re-export it")
        if len(buffers[-1]) < buf.get("byteLength", 0):
            raise AssetError(f"{path}: buffer {i} holds {len(buffers[-1])} bytes but declares "
                             f"{buf['byteLength']}; the file is truncated, re-download or re-export it")
    return GltfFile(path, doc, buffers)


def check_extensions(gf: GltfFile) -> None:
    """Raise a one-line :class:`AssetError` for mesh compression we cannot decode."""
    used = set(gf.doc.get("extensionsUsed", [])) | set(gf.doc.get("extensionsRequired", []))
    for ext, kind in UNSUPPORTED_COMPRESSION.items():
        if ext in used:
            raise AssetError(f"{gf.path}: {kind}-compressed glTF ({ext}) is not supported; "
                             f"{DECOMPRESS_HINT}")


def write_glb(doc: dict[str, Any], bin_data: bytes) -> bytes:
    """Serialise a document with a single BIN buffer into GLB bytes (4-byte aligned chunks)."""
    doc = dict(doc)
    if bin_data:
        doc["buffers"] = [{"byteLength": len(bin_data)}]
    else:
        doc.pop("buffers", None)
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    bin_data = bytes(bin_data) + b"\0" * (-len(bin_data) % 4)
    total = 12 + 8 + len(js) + (8 + len(bin_data) if bin_data else 0)
    out = [struct.pack("<4sII", GLB_MAGIC, 2, total), struct.pack("<II", len(js), _CHUNK_JSON), js]
    if bin_data:
        out += [struct.pack("<II", len(bin_data), _CHUNK_BIN), bin_data]
    return b"".join(out)


def _split_glb(path: Path, data: bytes) -> tuple[dict[str, Any], bytes | None]:
    truncated = (f"{path}: truncated GLB ({len(data)} bytes on disk, header says {{}}); "
                 "re-download or re-export the file")
    if len(data) < 20:
        raise AssetError(truncated.format("at least 20"))
    _, version, length = struct.unpack_from("<4sII", data, 0)
    if version != 2:
        raise AssetError(f"{path}: GLB version {version} is not supported (only glTF 2.0); "
                         "convert it with a current exporter")
    if length > len(data):
        raise AssetError(truncated.format(length))
    doc, bin_chunk, pos = None, None, 12
    while pos + 8 <= length:
        clen, ctype = struct.unpack_from("<II", data, pos)
        chunk = data[pos + 8: pos + 8 + clen]
        if len(chunk) < clen:
            raise AssetError(truncated.format(pos + 8 + clen))
        if ctype == _CHUNK_JSON:
            try:
                doc = json.loads(chunk.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise AssetError(f"{path}: the GLB's JSON chunk is corrupt ({exc}); re-export it") from exc
        elif ctype == _CHUNK_BIN and bin_chunk is None:
            bin_chunk = chunk
        pos += 8 + clen
    if doc is None:
        raise AssetError(f"{path}: GLB without a JSON chunk; the file is corrupt, re-export it")
    return doc, bin_chunk


def _read_uri(path: Path, uri: str, what: str) -> bytes:
    if uri.startswith("data:"):
        head, _, payload = uri.partition(",")
        try:
            return base64.b64decode(payload) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
        except ValueError as exc:
            raise AssetError(f"{path}: {what} has a corrupt data URI ({exc}); re-export the asset") from exc
    target = path.parent / urllib.parse.unquote(uri)
    if not target.is_file():
        raise AssetError(f"{path}: {what} refers to '{uri}', which is missing next to the .gltf; "
                         "copy it there or export the asset as a single .glb")
    return target.read_bytes()
