"""texture_mesh end to end with the test doubles: GLB written, loads back, renders like the texturer."""

from __future__ import annotations

import json

import pytest
import torch

from photo3d.assets import load_asset
from photo3d.errors import Photo3DError
from photo3d.render import MeshTensors, render_views
from photo3d.gaussians import render_gaussians
from photo3d.texture import TextureConfig, get_texturer, texture_mesh

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.filterwarnings("ignore::UserWarning")]
TINY = dict(texture_size=128, fit_steps=20, fit_views=2, fit_resolution=96, preview_resolution=64,
            progress=False, backend="torch")


def psnr_on_mesh(rendered, alpha, target) -> float:
    fg = (alpha > 0.5).expand_as(rendered)
    return float(10 * torch.log10(1 / (rendered - target)[fg].square().mean()))


@pytest.fixture(scope="module")
def views_run(tmp_path_factory, bunny_path):
    out = tmp_path_factory.mktemp("views")
    cfg = TextureConfig(**TINY, option=("resolution=128",))
    return texture_mesh(bunny_path, "a ceramic rabbit", out, "testing-views", "tiny", cfg, log=None)


def test_views_result_becomes_a_glb_that_renders_like_the_views(views_run, bunny_path):
    files = views_run.files
    for name in ("glb", "texture", "grid", "turntable", "turntable_gif", "views", "record"):
        assert files[name].exists(), name
    back = load_asset(files["glb"])
    assert back.mesh.uv is not None and back.mesh.materials[0].base_color_texture.shape == (128, 128, 3)
    src = load_asset(bunny_path)
    assert abs(back.mesh.vertices - 0).max() <= 0.5 + 1e-4  # normalised on load, like the source
    assert back.mesh.num_faces == src.mesh.num_faces
    # Render the GLB as loaded at the double's own cameras: it looks like the double's views.
    double = get_texturer("testing-views")("tiny", "cpu", resolution=128).texture(src, "a ceramic rabbit", None, 0)
    out = render_views(MeshTensors.from_mesh(back.mesh), double.cameras, backend="torch")
    assert psnr_on_mesh(out.rgb, out.alpha, double.images) > 27.0
    rec = json.loads(files["record"].read_text())
    assert rec["texturer"]["name"] == "testing-views" and rec["texturer"]["standin"] is True
    assert rec["bake"]["kind"] == "views" and rec["bake"]["render_psnr_db"] > 27.0
    assert rec["config"]["texture_size"] == 128 and rec["files"]["glb"] == "textured.glb"
    cams = json.loads((files["views"] / "cameras.json").read_text())
    assert cams["projection"] == "orthographic" and len(cams["views"]) == 6 and cams["view_weights"][0] == 1.0


def test_gaussians_result_is_fitted_with_a_metallic_roughness_map(tmp_path, bunny_path):
    pytest.importorskip("xatlas")
    cfg = TextureConfig(**TINY, option=("density=96",))
    res = texture_mesh(bunny_path, "brass", tmp_path, "testing-gaussians", "tiny", cfg, log=None)
    assert res.files["gaussians"].exists() and res.files["metallic_roughness"].exists()
    from photo3d.assets.gltf_file import read_gltf_file

    pbr = read_gltf_file(res.files["glb"]).doc["materials"][0]["pbrMetallicRoughness"]
    assert "metallicRoughnessTexture" in pbr and "baseColorTexture" in pbr
    rec = res.record
    assert rec["bake"]["kind"] == "gaussians" and rec["bake"]["losses"][-1] < rec["bake"]["losses"][0]
    # The textured GLB renders like the Gaussians it was fitted to (stated bound: 22 dB on the mesh).
    back = load_asset(res.files["glb"])
    src = load_asset(bunny_path)
    g = get_texturer("testing-gaussians")("tiny", "cpu", density=96).texture(src, "brass", None, 0).gaussians
    from photo3d.cameras import rig_cameras

    cams = rig_cameras(96)
    out = render_views(MeshTensors.from_mesh(back.mesh), cams, backend="torch")
    assert psnr_on_mesh(out.rgb, out.alpha, render_gaussians(g, cams).rgb) > 22.0
    mr = res.metallic_roughness
    assert torch.allclose(mr[0], torch.ones_like(mr[0])) and 0 < float(mr[1:].mean()) < 1


def test_uv_keep_bakes_into_the_meshs_own_atlas(tmp_path, sugar_box_path):
    cfg = TextureConfig(**{**TINY, "uv": "keep", "turntable": False}, option=("resolution=96",))
    res = texture_mesh(sugar_box_path, "x", tmp_path, "testing-views", "tiny", cfg, log=None)
    back = load_asset(res.files["glb"])
    src = load_asset(sugar_box_path)
    assert back.mesh.num_vertices == src.mesh.num_vertices  # copy route: the source file's mesh, new image
    assert "turntable" not in res.files


def test_errors_are_one_line(tmp_path, bunny_path):
    with pytest.raises(Photo3DError, match="mesh file not found"):
        texture_mesh(tmp_path / "none.glb", "x", tmp_path, "testing-views", "tiny", TextureConfig(**TINY), log=None)
    with pytest.raises(Photo3DError, match="--uv keep needs UVs"):
        texture_mesh(bunny_path, "x", tmp_path, "testing-views", "tiny", TextureConfig(**{**TINY, "uv": "keep"}),
                     log=None)
    with pytest.raises(Photo3DError, match="KEY=VALUE"):
        TextureConfig(option=("steps",))
    assert TextureConfig(option=("steps=30", "name=oak", "scale=[1, 2]")).texturer_options() == {
        "steps": 30, "name": "oak", "scale": [1, 2]}
