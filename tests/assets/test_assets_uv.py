"""ensure_uvs: generated atlases and baked textures render like the original colours."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from assets_factory import GltfBuilder, triangle_mesh

from photo3d.assets import ensure_uvs, load_asset
from photo3d.assets.bake import fill_empty, rasterize_uv
from photo3d.errors import MissingDependencyError


def _bilinear_free_sample(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    h, w = texture.shape[:2]
    return texture[np.clip((uv[:, 1] * h).astype(int), 0, h - 1), np.clip((uv[:, 0] * w).astype(int), 0, w - 1)]


def test_bunny_gets_uvs_and_constant_texture(bunny_path):
    asset = load_asset(bunny_path)
    out = ensure_uvs(asset, texture_size=64)
    mesh = out.mesh
    assert out.meta["uv_generated"] and out.meta["textured"] and mesh.is_textured
    assert asset.mesh.uv is None and not asset.meta["uv_generated"]  # input untouched
    assert mesh.uv.shape == (mesh.num_vertices, 2) and mesh.num_vertices >= asset.mesh.num_vertices
    assert mesh.uv.min() >= 0 and mesh.uv.max() <= 1
    assert mesh.num_faces == asset.mesh.num_faces
    # same triangles, in the same order, just with split vertices
    np.testing.assert_allclose(mesh.vertices[mesh.faces], asset.mesh.vertices[asset.mesh.faces])
    factor = asset.mesh.materials[0].base_color_factor
    tex = mesh.materials[0].base_color_texture
    assert tex.shape == (64, 64, 3)
    np.testing.assert_allclose(tex.reshape(-1, 3), np.round(factor[:3] * 255).reshape(1, 3).repeat(64 * 64, 0), atol=1)
    np.testing.assert_allclose(mesh.materials[0].base_color_factor, [1, 1, 1, factor[3]])
    np.testing.assert_array_equal(out.to_world, asset.to_world)


def test_vertex_colours_are_baked(tmp_path):
    # a 4x4 grid of vertices whose colour is linear in position: interpolation is exact
    xs, ys = np.meshgrid(np.linspace(0, 1, 4), np.linspace(0, 1, 4))
    pos = np.stack([xs.ravel(), ys.ravel(), np.zeros(16)], axis=1).astype(np.float32)
    faces = []
    for r in range(3):
        for c in range(3):
            i = r * 4 + c
            faces += [[i, i + 1, i + 5], [i, i + 5, i + 4]]
    colors = np.stack([pos[:, 0], pos[:, 1], np.full(16, 0.5)], axis=1).astype(np.float32)
    b = GltfBuilder()
    mat = b.material(pbrMetallicRoughness={"baseColorFactor": [0.5, 1, 1, 1]})
    b.node(mesh=b.mesh({"positions": pos, "faces": faces, "colors": colors, "material": mat}))
    asset = load_asset(b.save_glb(tmp_path / "vc.glb"))
    out = ensure_uvs(asset, texture_size=128)
    mesh = out.mesh
    assert mesh.vertex_colors is None and out.meta["uv_generated"]
    tex = mesh.materials[0].base_color_texture.astype(np.float32) / 255
    centroid_uv = mesh.uv[mesh.faces].mean(1)
    expected = asset.mesh.vertex_colors[asset.mesh.faces].mean(1)[:, :3] * [0.5, 1, 1]
    np.testing.assert_allclose(_bilinear_free_sample(tex, centroid_uv), expected, atol=0.04)


def test_existing_uvs_get_constant_texture(tmp_path):
    b = GltfBuilder()
    mat = b.material(pbrMetallicRoughness={"baseColorFactor": [0.2, 0.4, 0.6, 1]})
    b.node(mesh=b.mesh({**triangle_mesh(), "material": mat}))
    asset = load_asset(b.save_glb(tmp_path / "plain.glb"))
    out = ensure_uvs(asset, texture_size=8)
    assert not out.meta["uv_generated"] and out.mesh.is_textured
    np.testing.assert_array_equal(out.mesh.uv, asset.mesh.uv)
    np.testing.assert_array_equal(out.mesh.materials[0].base_color_texture[0, 0], [51, 102, 153])


def test_missing_xatlas_suggests_reexport(bunny_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "xatlas", None)  # makes `import xatlas` fail
    with pytest.raises(MissingDependencyError, match="re-export"):
        ensure_uvs(load_asset(bunny_path), texture_size=8)


def test_rasterize_uv_half_square():
    uv = np.array([[0, 0], [1, 0], [0, 1]], np.float64)
    values = np.array([[1.0], [0.0], [0.0]])
    image, covered = rasterize_uv(uv, np.array([[0, 1, 2]]), values, 16)
    assert 120 <= covered.sum() <= 136  # half of 256 texels, give or take the diagonal
    assert covered[0, 0] and not covered[15, 15]
    assert image[0, 0, 0] > 0.9 and image[0, 14, 0] < 0.1
    filled = fill_empty(image, covered)
    np.testing.assert_array_equal(filled[covered], image[covered])
    # the far corner copies a texel next to the diagonal, where vertex 0's weight is ~0
    assert filled[15, 15, 0] < 0.2 and filled[0, 15, 0] < 0.2
    assert np.isfinite(filled).all()
