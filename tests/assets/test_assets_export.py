"""export_glb round trips: load -> export with a new texture -> load again."""

from __future__ import annotations

import io

import numpy as np
import pytest
from assets_factory import GltfBuilder, png_bytes, quadrant_texture, read_glb_json, triangle_mesh
from PIL import Image

from photo3d.assets import ensure_uvs, export_glb, load_asset
from photo3d.assets.normalize import Y_UP_TO_WORLD, transform_points
from photo3d.errors import InputError


def _new_texture(h=16, w=24, c=3) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (h, w, c), dtype=np.uint8)


def _image_of(path, doc, texture_index) -> np.ndarray:
    """Decode a texture of a written GLB with pygltflib + PIL (independent of photo3d)."""
    import pygltflib

    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()
    image = doc["images"][doc["textures"][texture_index]["source"]]
    view = doc["bufferViews"][image["bufferView"]]
    data = blob[view.get("byteOffset", 0): view.get("byteOffset", 0) + view["byteLength"]]
    return np.asarray(Image.open(io.BytesIO(data)))


def test_sugar_box_round_trip(sugar_box_path, tmp_path):
    asset = load_asset(sugar_box_path)
    tex = _new_texture()
    out = export_glb(asset, tmp_path / "out.glb", {0: tex})
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == ["out.glb"]  # no temp left
    back = load_asset(out)
    assert back.mesh.num_vertices == asset.mesh.num_vertices and back.mesh.num_faces == asset.mesh.num_faces
    np.testing.assert_allclose(back.mesh.vertices, asset.mesh.vertices, atol=1e-5)
    np.testing.assert_allclose(back.mesh.uv, asset.mesh.uv, atol=1e-7)
    np.testing.assert_array_equal(back.mesh.materials[0].base_color_texture, tex)
    doc = read_glb_json(out)
    assert len(doc["images"]) == 1  # the old 1024^2 image is dropped, not carried along
    assert out.stat().st_size < sugar_box_path.stat().st_size


def test_other_maps_survive(tmp_path):
    b = GltfBuilder()
    base = b.texture(quadrant_texture(4))
    normal_px = np.full((4, 4, 3), (128, 128, 255), np.uint8)
    normal = b.texture(normal_px)
    mr = b.texture(np.full((4, 4, 3), (0, 200, 30), np.uint8))
    mat = b.material(name="pbr", alphaMode="MASK", alphaCutoff=0.3, doubleSided=True,
                     emissiveFactor=[0.1, 0.2, 0.3], normalTexture={"index": normal, "scale": 0.5},
                     pbrMetallicRoughness={"baseColorTexture": {"index": base}, "baseColorFactor": [1, 1, 1, 1],
                                           "metallicFactor": 0.25, "roughnessFactor": 0.75,
                                           "metallicRoughnessTexture": {"index": mr}})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}), name="root")
    src = b.save_glb(tmp_path / "pbr.glb")
    asset = load_asset(src)
    assert set(asset.mesh.materials[0].extras["maps"]) == {"normalTexture", "metallicRoughnessTexture"}
    tex = _new_texture(8, 8, 4)
    out = export_glb(asset, tmp_path / "new.glb", {0: tex})
    doc = read_glb_json(out)
    m = doc["materials"][0]
    assert m["alphaMode"] == "MASK" and m["alphaCutoff"] == 0.3 and m["doubleSided"] is True
    assert m["emissiveFactor"] == [0.1, 0.2, 0.3] and m["normalTexture"]["scale"] == 0.5
    pbr = m["pbrMetallicRoughness"]
    assert pbr["metallicFactor"] == 0.25 and pbr["roughnessFactor"] == 0.75
    np.testing.assert_array_equal(_image_of(out, doc, m["normalTexture"]["index"]), normal_px)
    np.testing.assert_array_equal(_image_of(out, doc, pbr["baseColorTexture"]["index"]), tex)
    assert doc["nodes"][0]["name"] == "root"
    back = load_asset(out)
    np.testing.assert_array_equal(back.mesh.materials[0].base_color_texture, tex)  # MASK keeps alpha


def test_untextured_material_gains_texture(tmp_path):
    b = GltfBuilder()
    mat = b.material(pbrMetallicRoughness={"baseColorFactor": [0.5, 0.5, 0.5, 1]})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    asset = load_asset(b.save_glb(tmp_path / "plain.glb"))
    assert not asset.mesh.is_textured
    tex = _new_texture()
    back = load_asset(export_glb(asset, tmp_path / "out.glb", {0: tex}))
    np.testing.assert_array_equal(back.mesh.materials[0].base_color_texture, tex)
    np.testing.assert_allclose(back.mesh.uv, asset.mesh.uv)


def test_frames(sugar_box_path, tmp_path):
    asset = load_asset(sugar_box_path)
    raw = load_asset(sugar_box_path, normalize=False)
    src = load_asset(export_glb(asset, tmp_path / "src.glb"), normalize=False)
    np.testing.assert_allclose(src.mesh.vertices, raw.mesh.vertices, atol=1e-6)
    world = load_asset(export_glb(asset, tmp_path / "world.glb", frame="world"), normalize=False)
    # the file is glTF Y-up: mapping it to Z-up gives the normalised world vertices
    np.testing.assert_allclose(transform_points(Y_UP_TO_WORLD, world.mesh.vertices), asset.mesh.vertices, atol=1e-6)
    with pytest.raises(InputError):
        export_glb(asset, tmp_path / "bad.glb", frame="camera")


def test_obj_round_trip_builds_fresh_glb(tmp_path):
    (tmp_path / "tex.png").write_bytes(png_bytes(quadrant_texture(8)))
    (tmp_path / "m.mtl").write_text("newmtl a\nmap_Kd tex.png\nnewmtl b\nKd 0 1 0\n")
    (tmp_path / "m.obj").write_text(
        "mtllib m.mtl\nv 0 0 0\nv 2 0 0\nv 2 1 0\nv 0 1 0\nv 0 0 3\n"
        "vt 0.1 0.9\nvt 0.9 0.9\nvt 0.9 0.1\nvt 0.1 0.1\n"
        "usemtl a\nf 1/1 2/2 3/3\nf 1/1 3/3 4/4\nusemtl b\nf 1 2 5\n")
    asset = load_asset(tmp_path / "m.obj")
    ia = [m.name for m in asset.mesh.materials].index("a")
    tex = _new_texture()
    back = load_asset(export_glb(asset, tmp_path / "out.glb", {ia: tex}))
    assert back.mesh.num_faces == asset.mesh.num_faces
    # vertex order may change (one primitive per material): compare per-face corner positions/uvs
    def corners(a):
        key = np.concatenate([a.mesh.vertices[a.mesh.faces].reshape(len(a.mesh.faces), -1),
                              a.mesh.uv[a.mesh.faces].reshape(len(a.mesh.faces), -1)], axis=1)
        return key[np.lexsort(key.T[::-1])]
    np.testing.assert_allclose(corners(back), corners(asset), atol=1e-5)
    textures = [m.base_color_texture for m in back.mesh.materials if m.base_color_texture is not None]
    assert len(textures) == 1
    np.testing.assert_array_equal(textures[0], tex)
    greens = [m for m in back.mesh.materials if m.base_color_texture is None]
    np.testing.assert_allclose(greens[0].base_color_factor, [0, 1, 0, 1], atol=1e-2)


def test_export_errors(sugar_box_path, bunny_path, tmp_path):
    asset = load_asset(sugar_box_path)
    with pytest.raises(InputError, match="H x W"):
        export_glb(asset, tmp_path / "a.glb", {0: np.zeros((4, 4), np.uint8)})
    with pytest.raises(InputError, match="material 3"):
        export_glb(asset, tmp_path / "b.glb", {3: _new_texture()})
    with pytest.raises(InputError, match="ensure_uvs"):
        export_glb(load_asset(bunny_path), tmp_path / "c.glb", {0: _new_texture()})
    assert not any(tmp_path.iterdir())


def test_bunny_ensure_uvs_then_export(bunny_path, tmp_path):
    asset = ensure_uvs(load_asset(bunny_path), texture_size=32)
    tex = _new_texture(32, 32)
    back = load_asset(export_glb(asset, tmp_path / "bunny.glb", {0: tex}))
    assert back.mesh.num_vertices == asset.mesh.num_vertices
    np.testing.assert_allclose(back.mesh.vertices, asset.mesh.vertices, atol=1e-5)
    np.testing.assert_allclose(back.mesh.uv, asset.mesh.uv, atol=1e-7)
    np.testing.assert_array_equal(back.mesh.materials[0].base_color_texture, tex)


def test_gltf_with_external_files_becomes_one_glb(tmp_path):
    import json

    b = GltfBuilder()
    base = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": 0}})
    plain = b.material(pbrMetallicRoughness={"baseColorFactor": [0, 0, 1, 1]})
    quad = triangle_mesh()
    b.node(mesh=b.mesh({**quad, "material": base}, {**quad, "material": plain}))
    src = b.save_gltf(tmp_path / "ext.gltf")
    (tmp_path / "normal.png").write_bytes(png_bytes(np.full((2, 2, 3), 128, np.uint8)))
    (tmp_path / "tex.png").write_bytes(png_bytes(quadrant_texture(4)))
    doc = json.loads(src.read_text())
    doc["images"] = [{"uri": "tex.png"}, {"uri": "normal.png"}]
    doc["textures"] = [{"source": 0}, {"source": 1}]
    doc["materials"][base]["normalTexture"] = {"index": 1}
    src.write_text(json.dumps(doc))
    asset = load_asset(src)
    out = export_glb(asset, tmp_path / "out" / "one.glb")  # no new textures: a faithful copy
    back = load_asset(out)
    np.testing.assert_allclose(back.mesh.vertices, asset.mesh.vertices, atol=1e-6)
    np.testing.assert_array_equal(back.mesh.materials[0].base_color_texture, quadrant_texture(4))
    odoc = read_glb_json(out)
    assert all("uri" not in img for img in odoc["images"]) and len(odoc["buffers"]) == 1
    np.testing.assert_array_equal(_image_of(out, odoc, odoc["materials"][base]["normalTexture"]["index"]),
                                  np.full((2, 2, 3), 128, np.uint8))
    # a texture for the untextured material is added next to the kept ones
    tex = _new_texture()
    again = load_asset(export_glb(asset, tmp_path / "two.glb", {1: tex}))
    np.testing.assert_array_equal(again.mesh.materials[1].base_color_texture, tex)
    np.testing.assert_array_equal(again.mesh.materials[0].base_color_texture, quadrant_texture(4))


def test_in_memory_textures_are_written(tmp_path):
    b = GltfBuilder()
    textured = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": b.texture(quadrant_texture(4))}})
    plain = b.material(pbrMetallicRoughness={"baseColorFactor": [0.2, 0.4, 0.6, 1]})
    quad = triangle_mesh()
    b.node(mesh=b.mesh({**quad, "material": textured}, {**quad, "material": plain}))
    asset = ensure_uvs(load_asset(b.save_glb(tmp_path / "in.glb")), texture_size=4)  # bakes `plain`
    edited = _new_texture(4, 4)
    asset.mesh.materials[0].base_color_texture = edited
    back = load_asset(export_glb(asset, tmp_path / "out.glb"))
    np.testing.assert_array_equal(back.mesh.materials[0].base_color_texture, edited)
    np.testing.assert_array_equal(back.mesh.materials[1].base_color_texture[0, 0], [51, 102, 153])
    np.testing.assert_allclose(back.mesh.materials[1].base_color_factor, [1, 1, 1, 1])


@pytest.mark.parametrize("route", ["build", "copy"])
def test_metallic_roughness_map_is_written(sugar_box_path, bunny_path, tmp_path, route):
    asset = load_asset(sugar_box_path) if route == "copy" else ensure_uvs(load_asset(bunny_path), texture_size=16)
    base, mr = _new_texture(16, 16), _new_texture(8, 8)
    out = export_glb(asset, tmp_path / "mr.glb", {0: base}, metallic_roughness={0: mr})
    doc = read_glb_json(out)
    pbr = doc["materials"][0]["pbrMetallicRoughness"]
    assert pbr["metallicFactor"] == pbr["roughnessFactor"] == 1.0
    np.testing.assert_array_equal(_image_of(out, doc, pbr["metallicRoughnessTexture"]["index"]), mr)
    np.testing.assert_array_equal(_image_of(out, doc, pbr["baseColorTexture"]["index"]), base)
    back = load_asset(out)
    assert "metallicRoughnessTexture" in back.mesh.materials[0].extras["maps"]
    with pytest.raises(InputError, match="metallic-roughness texture for material 2"):
        export_glb(asset, tmp_path / "bad.glb", metallic_roughness={2: mr})
