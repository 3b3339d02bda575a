"""Every user error is one AssetError line naming the file and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from assets_factory import GltfBuilder, png_bytes, quadrant_texture, triangle_mesh

from photo3d.assets import load_asset
from photo3d.errors import AssetError


def _error(path, *words) -> str:
    with pytest.raises(AssetError) as info:
        load_asset(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert path.name in msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)
    return msg


def test_missing_file(tmp_path):
    _error(tmp_path / "nope.glb", "no such file")


def test_folder(tmp_path):
    d = tmp_path / "dir.glb"
    d.mkdir()
    _error(d, "folder")


def test_text_renamed_glb(tmp_path):
    p = tmp_path / "notes.glb"
    p.write_text("hello, this is not a mesh\n")
    _error(p, "not a GLB")


def test_unsupported_format(tmp_path):
    p = tmp_path / "model.xyz123"
    p.write_text("1 2 3\n")
    _error(p, "not a supported mesh format", "GLB")


def test_truncated_glb(tmp_path, sugar_box_path):
    data = sugar_box_path.read_bytes()
    p = tmp_path / "cut.glb"
    p.write_bytes(data[: len(data) // 2])
    _error(p, "truncated")


def test_points_only_glb(tmp_path):
    b = GltfBuilder()
    b.node(mesh=b.mesh({"positions": np.random.default_rng(0).random((10, 3)), "mode": 0}))
    _error(b.save_glb(tmp_path / "cloud.glb"), "no faces", "point")


def test_draco_glb(tmp_path):
    b = GltfBuilder()
    b.node(mesh=b.mesh(triangle_mesh()))
    b.doc["extensionsUsed"] = ["KHR_draco_mesh_compression"]
    b.doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    _error(b.save_glb(tmp_path / "draco.glb"), "KHR_draco_mesh_compression", "gltf-transform")


def test_corrupt_embedded_texture(tmp_path):
    b = GltfBuilder()
    tex = b.texture(b"\x89PNG\r\n\x1a\nnot really a png")
    mat = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": tex}})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    _error(b.save_glb(tmp_path / "badtex.glb"), "image 0", "not a readable image")


def test_ktx2_texture(tmp_path):
    b = GltfBuilder()
    tex = b.texture(b"\xabKTX 20\xbb\r\n\x1a\n" + b"\0" * 64, mime="image/ktx2")
    mat = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": tex}})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    _error(b.save_glb(tmp_path / "ktx.glb"), "KTX2")


def test_basisu_only_texture(tmp_path):
    b = GltfBuilder()
    tex = b.texture(b"\xabKTX 20\xbb\r\n\x1a\n" + b"\0" * 64, mime="image/ktx2")
    b.doc["textures"][tex] = {"extensions": {"KHR_texture_basisu": {"source": 0}}}
    mat = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": tex}})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    _error(b.save_glb(tmp_path / "basisu.glb"), "KHR_texture_basisu")


def test_gltf_missing_bin(tmp_path):
    b = GltfBuilder()
    b.node(mesh=b.mesh(triangle_mesh()))
    path = b.save_gltf(tmp_path / "lost.gltf")
    path.with_suffix(".bin").unlink()
    _error(path, "lost.bin", "missing")


def _obj(tmp_path, texture_name: str):
    (tmp_path / "m.mtl").write_text(f"newmtl a\nmap_Kd {texture_name}\n")
    p = tmp_path / "m.obj"
    p.write_text("mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nusemtl a\nf 1/1 2/2 3/3\n")
    return p


def test_obj_corrupt_texture(tmp_path):
    (tmp_path / "broken.png").write_bytes(png_bytes(quadrant_texture())[:20])
    msg = _error(_obj(tmp_path, "broken.png"), "broken.png")
    assert "readable" in msg


def test_obj_missing_texture(tmp_path):
    _error(_obj(tmp_path, "gone.png"), "gone.png", "missing")


def test_obj_without_faces(tmp_path):
    p = tmp_path / "pts.obj"
    p.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    _error(p, "no triangle faces")
