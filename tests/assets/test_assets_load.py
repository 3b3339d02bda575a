"""load_asset on the bundled assets and on synthetic glTF / OBJ / STL files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from assets_factory import GltfBuilder, png_bytes, quadrant_texture, read_glb_json, triangle_mesh

from photo3d import assets
from photo3d.assets import load_asset
from photo3d.assets.normalize import transform_points


def _sample(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Nearest texel at uv in image convention (u right, v down)."""
    h, w = texture.shape[:2]
    return texture[int(uv[1] * h), int(uv[0] * w)]


def test_public_api():
    for name in ("load_asset", "Asset", "Mesh", "Material", "export_glb", "ensure_uvs", "normalize_to_world"):
        assert hasattr(assets, name), name


def test_sugar_box(sugar_box_path):
    asset = load_asset(sugar_box_path)
    mesh = asset.mesh
    assert mesh.num_faces == 16384
    assert len(mesh.materials) == 1
    tex = mesh.materials[0].base_color_texture
    assert tex.shape == (1024, 1024, 3) and tex.dtype == np.uint8
    assert mesh.uv is not None and mesh.uv.shape == (mesh.num_vertices, 2)
    lo, hi = mesh.bounds()
    assert np.isclose((hi - lo).max(), 1.0, atol=1e-6)
    np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=1e-6)
    assert asset.meta["format"] == "glb" and asset.meta["textured"] and asset.meta["n_materials"] == 1
    # the box is tall along glTF Y, so its longest side is world Z
    assert np.argmax(hi - lo) == 2


def test_to_world_maps_source_to_normalised(sugar_box_path):
    raw = load_asset(sugar_box_path, normalize=False)
    norm = load_asset(sugar_box_path)
    np.testing.assert_array_equal(raw.to_world, np.eye(4))
    np.testing.assert_allclose(transform_points(norm.to_world, raw.mesh.vertices), norm.mesh.vertices, atol=1e-6)


def test_bunny_untextured(bunny_path):
    asset = load_asset(bunny_path)
    mesh = asset.mesh
    assert mesh.uv is None and not mesh.is_textured and mesh.vertex_colors is None
    assert mesh.materials[0].base_color_texture is None
    factor = read_glb_json(bunny_path)["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"]
    np.testing.assert_allclose(mesh.materials[0].base_color_factor, factor, atol=1e-6)
    assert not asset.meta["textured"]


def test_axis_mapping_gltf_front_faces_minus_y(tmp_path):
    b = GltfBuilder()
    pts = np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], np.float32)
    b.node(mesh=b.mesh({"positions": pts, "faces": [[0, 2, 4], [1, 3, 5]]}))
    asset = load_asset(b.save_glb(tmp_path / "axes.glb"))
    v = asset.mesh.vertices
    np.testing.assert_allclose(v[0], [0, -0.5, 0], atol=1e-6)  # glTF +Z (front) -> world -Y
    np.testing.assert_allclose(v[4], [0, 0, 0.5], atol=1e-6)  # glTF +Y (up) -> world +Z


def test_up_z_keeps_axes(tmp_path):
    b = GltfBuilder()
    pts = np.array([[0, 0, 2], [0, 0, -2], [1, 0, 0], [-1, 0, 0]], np.float32)
    b.node(mesh=b.mesh({"positions": pts, "faces": [[0, 2, 1], [1, 3, 0]]}))
    v = load_asset(b.save_glb(tmp_path / "z.glb"), up="z").mesh.vertices
    np.testing.assert_allclose(v[0], [0, 0, 0.5], atol=1e-6)


def test_uv_orientation_gltf(tmp_path):
    b = GltfBuilder()
    tex = b.texture(quadrant_texture(8))
    mat = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": tex}})
    quad = triangle_mesh()
    quad["uv"] = np.array([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], np.float32)
    b.node(mesh=b.mesh({**quad, "material": mat}))
    mesh = load_asset(b.save_glb(tmp_path / "uv.glb")).mesh
    np.testing.assert_allclose(mesh.uv[0], [0.1, 0.1], atol=1e-6)
    texture = mesh.materials[0].base_color_texture
    assert tuple(_sample(texture, mesh.uv[0])) == (255, 0, 0)
    assert tuple(_sample(texture, mesh.uv[2])) == (0, 0, 255)


def _obj_files(tmp_path, texture_bytes: bytes | None = None):
    (tmp_path / "tex.png").write_bytes(texture_bytes if texture_bytes is not None else png_bytes(quadrant_texture(8)))
    (tmp_path / "m.mtl").write_text("newmtl textured\nKd 0.5 0.5 0.5\nmap_Kd tex.png\n"
                                    "newmtl plain\nKd 1 0 0\n")
    (tmp_path / "m.obj").write_text(
        "mtllib m.mtl\n"
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\n"
        "vt 0.1 0.9\nvt 0.9 0.9\nvt 0.9 0.1\nvt 0.1 0.1\n"
        "usemtl textured\nf 1/1 2/2 3/3\nf 1/1 3/3 4/4\n"
        "usemtl plain\nf 1 2 5\n")
    return tmp_path / "m.obj"


def test_obj_mtl(tmp_path):
    asset = load_asset(_obj_files(tmp_path))
    mesh = asset.mesh
    assert asset.meta["format"] == "obj" and mesh.num_faces == 3
    names = [m.name for m in mesh.materials]
    assert sorted(names) == ["plain", "textured"]
    textured = mesh.materials[names.index("textured")]
    plain = mesh.materials[names.index("plain")]
    assert textured.base_color_texture.shape == (8, 8, 3)
    np.testing.assert_allclose(plain.base_color_factor, [1, 0, 0, 1], atol=1e-2)
    assert plain.base_color_texture is None
    # OBJ vt (0.1, 0.9) is the image's top-left area: uv (0.1, 0.1) in image convention -> red
    tri = mesh.faces[mesh.face_material == names.index("textured")]
    uvs = mesh.uv[np.unique(tri)]
    corner = uvs[np.argmin(uvs.sum(1))]
    np.testing.assert_allclose(corner, [0.1, 0.1], atol=1e-6)
    assert tuple(_sample(textured.base_color_texture, corner)) == (255, 0, 0)


def test_multi_mesh_multi_material_with_node_transforms(tmp_path):
    b = GltfBuilder()
    red = b.material(name="red", pbrMetallicRoughness={"baseColorFactor": [1, 0, 0, 1]})
    green = b.material(name="green", pbrMetallicRoughness={"baseColorFactor": [0, 1, 0, 1]})
    quad = triangle_mesh()
    tri = {"positions": quad["positions"][:3], "faces": [[0, 1, 2]]}
    m0 = b.mesh({**tri, "material": red})
    m1 = b.mesh({**tri, "material": green}, {**quad, "material": red})
    child = b.node(mesh=m0, translation=[0, 0, 5])
    # parent: translate +10 x, rotate 90 deg about Y, scale 2; its child adds +5 z (local)
    s = np.sqrt(0.5)
    parent = b.node(mesh=m0, translation=[10, 0, 0], rotation=[0, s, 0, s], scale=[2, 2, 2], children=[child])
    other = b.node(mesh=m1, matrix=[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -3, 0, 1])
    asset = load_asset(b.save_glb(tmp_path / "multi.glb", roots=[parent, other]), normalize=False)
    mesh = asset.mesh
    assert asset.meta["n_meshes"] == 3 and asset.meta["n_primitives"] == 4
    assert mesh.num_faces == 1 + 1 + 1 + 2
    assert len(mesh.materials) == 2  # red shared by two meshes: one material
    assert sorted(m.source_index for m in mesh.materials) == [red, green]
    factors = np.array([m.base_color_factor for m in mesh.materials])[mesh.face_material]
    assert (factors[:, 0] == 1).sum() == 4 and (factors[:, 1] == 1).sum() == 1
    v = mesh.vertices
    # parent: x' = 10 + 2 * R_y(90) x ; R_y(90) maps (1,0,0) -> (0,0,-1)
    assert any(np.allclose(p, [10, 0, -2], atol=1e-5) for p in v)
    # child: parent(translate(0,0,5) p); (0,0,5) -> (10 + 2*5, 0, 0) for p = 0
    assert any(np.allclose(p, [20, 0, 0], atol=1e-5) for p in v)
    # matrix node: translation (0, -3, 0)
    assert any(np.allclose(p, [1, -2, 0], atol=1e-5) for p in v)


def test_mirrored_node_keeps_facing(tmp_path):
    b = GltfBuilder()
    tri = {"positions": [[0, 0, 0], [1, 0, 0], [0, 1, 0]], "faces": [[0, 1, 2]]}  # normal +Z
    b.node(mesh=b.mesh(tri), scale=[-1, 1, 1])
    mesh = load_asset(b.save_glb(tmp_path / "mirror.glb"), normalize=False).mesh
    a, b_, c = mesh.vertices[mesh.faces[0]]
    assert np.cross(b_ - a, c - a)[2] > 0


def test_vertex_colors_normalized_uint8(tmp_path):
    b = GltfBuilder()
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    b.node(mesh=b.mesh({"positions": [[0, 0, 0], [1, 0, 0], [0, 1, 0]], "faces": [[0, 1, 2]], "colors": colors}))
    asset = load_asset(b.save_glb(tmp_path / "vc.glb"))
    vc = asset.mesh.vertex_colors
    assert vc.shape == (3, 4) and asset.meta["has_vertex_colors"]
    np.testing.assert_allclose(vc, [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]], atol=1e-6)


def test_gltf_with_external_bin_and_image(tmp_path):
    b = GltfBuilder()
    mat = b.material(pbrMetallicRoughness={"baseColorTexture": {"index": 0}})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    path = b.save_gltf(tmp_path / "ext.gltf")
    (tmp_path / "tex.png").write_bytes(png_bytes(quadrant_texture(4)))
    doc = json.loads(path.read_text())
    doc["images"], doc["textures"] = [{"uri": "tex.png"}], [{"source": 0}]
    path.write_text(json.dumps(doc))
    asset = load_asset(path)
    assert asset.meta["format"] == "gltf" and asset.mesh.num_faces == 2
    np.testing.assert_array_equal(asset.mesh.materials[0].base_color_texture, quadrant_texture(4))


def test_interleaved_accessors(tmp_path):
    """Positions and UVs sharing one strided buffer view."""
    b = GltfBuilder()
    quad = triangle_mesh()
    inter = np.concatenate([quad["positions"], quad["uv"]], axis=1).astype(np.float32)
    view = b.view(inter.tobytes())
    b.doc["bufferViews"][view]["byteStride"] = 20
    b.doc["accessors"] += [
        {"bufferView": view, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]},
        {"bufferView": view, "byteOffset": 12, "componentType": 5126, "count": 4, "type": "VEC2"},
    ]
    idx = b.accessor(quad["faces"].reshape(-1))
    b.doc["meshes"].append({"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": idx}]})
    b.node(mesh=0)
    mesh = load_asset(b.save_glb(tmp_path / "inter.glb"), normalize=False).mesh
    np.testing.assert_allclose(mesh.vertices, quad["positions"])
    np.testing.assert_allclose(mesh.uv, quad["uv"])


def test_stl_geometry_only(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    box = trimesh.creation.box(extents=[1, 2, 4])
    path = tmp_path / "box.stl"
    box.export(path)
    asset = load_asset(path)
    assert asset.meta["format"] == "stl" and asset.mesh.num_faces == 12 and asset.mesh.uv is None
    lo, hi = asset.mesh.bounds()
    np.testing.assert_allclose(hi - lo, [0.25, 1.0, 0.5], atol=1e-6)  # Y-up: source z -> world -y


def test_texture_transform_offset_scale(tmp_path):
    b = GltfBuilder()
    tex = b.texture(quadrant_texture(8))
    info = {"index": tex, "extensions": {"KHR_texture_transform": {"offset": [0.5, 0.25], "scale": [0.5, 2.0]}}}
    mat = b.material(pbrMetallicRoughness={"baseColorTexture": info})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    b.doc["extensionsUsed"] = ["KHR_texture_transform"]
    mesh = load_asset(b.save_glb(tmp_path / "tt.glb")).mesh
    expected = triangle_mesh()["uv"] * [0.5, 2.0] + [0.5, 0.25]
    np.testing.assert_allclose(mesh.uv, expected, atol=1e-6)
