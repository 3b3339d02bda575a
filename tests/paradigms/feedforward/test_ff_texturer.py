"""The texturer behind ``photo3d texture --model feedforward`` and the ocnn import helper."""

from __future__ import annotations

import subprocess
import sys

import torch

from photo3d.assets import load_asset
from photo3d.paradigms.feedforward.texturer import build_texturer


def test_tiny_texturer_puts_gaussians_on_the_surface(bunny_path):
    asset = load_asset(bunny_path)
    tex = build_texturer("tiny", "cpu", depth=5, infer_points=8000)
    res = tex.texture(asset, "a ceramic bunny", image=torch.rand(3, 16, 16), seed=3)
    g, mat = res.gaussians, res.materials
    assert tex.name == "feedforward" and len(g) > 100 and mat.shape == (len(g), 2)
    assert float(mat.min()) >= 0 and float(mat.max()) <= 1 and not g.means.requires_grad
    # every Gaussian sits within one voxel of a mesh vertex-dense surface (centres of occupied voxels)
    v = torch.from_numpy(asset.mesh.vertices).float()
    near = torch.cdist(g.means, v).min(dim=1).values
    assert float(near.max()) < 2 * 2 / 2**5
    rec = res.record
    assert rec["standin"] is True and rec["is_paper_model"] is False and rec["reference_image_ignored"] is True
    assert rec["seed"] == 3 and rec["gaussians"] == len(g) and rec["points"] == 8000
    assert rec["network"]["name"].startswith("TexGaussian octree U-Net (tiny") and rec["network"]["weights"] is None
    again = tex.texture(asset, "a ceramic bunny", None, seed=3)
    assert torch.equal(again.gaussians.colors, g.colors)  # deterministic for a seed


def test_importing_ocnn_leaves_no_torchvision_behind():
    code = ("import sys\nfrom photo3d.paradigms.feedforward._ocnn import import_ocnn\n"
            "ocnn = import_ocnn()\nprint(ocnn.nn.OctreeConv.__name__, 'torchvision' in sys.modules, "
            "'torchvision.models' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["OctreeConv", "False", "False"]


def test_mesh_in_file_coordinates_is_refused_by_name(tmp_path):
    import pytest
    import trimesh

    from photo3d.errors import AssetError

    trimesh.creation.box(extents=(4.0, 1.0, 1.0)).export(tmp_path / "big.obj")
    asset = load_asset(tmp_path / "big.obj", normalize=False)
    tex = build_texturer("tiny", "cpu", depth=5, infer_points=2000)
    with pytest.raises(AssetError, match="outside the octree"):
        tex.texture(asset, "", None, 0)


def test_unknown_options_name_the_valid_ones():
    import pytest

    from photo3d.errors import InputError

    with pytest.raises(InputError, match=r"unknown option\(s\) colour.*valid: .*normalize"):
        build_texturer("tiny", "cpu", colour=1)
