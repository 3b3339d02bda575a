"""The octree U-Net, the Gaussian head and the text tower."""

from __future__ import annotations

import math

import pytest
import torch

from ff_meshes import box_mesh
from photo3d.errors import InputError, WeightsNotFoundError
from photo3d.paradigms.feedforward import FeedForwardConfig
from photo3d.paradigms.feedforward.config import ARCHITECTURES
from photo3d.paradigms.feedforward.model import FeedForwardTexturer, leaf_gaussians, splat_multiplier
from photo3d.paradigms.feedforward.octree import build_octree_batch
from photo3d.paradigms.feedforward.text import CONTEXT_LENGTH, load_text_encoder, tiny_text_encoder
from photo3d.paradigms.feedforward.unet import OctreeUNet, meta_unet


def _arch(depth=5):
    return FeedForwardConfig(model="tiny", depth=depth).architecture


def test_unet_maps_leaf_features_to_ten_outputs_and_trains_every_parameter():
    arch = _arch()
    net = OctreeUNet(arch)
    b = build_octree_batch([box_mesh()], 6000, arch.depth, arch.full_depth)
    ctx = torch.randn(1, CONTEXT_LENGTH, arch.context_dim)
    out = net(b.features, b.octree, ctx)
    assert out.shape == (len(b.features), 10) and torch.isfinite(out).all()
    out.square().mean().backward()
    dead = [k for k, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead, dead


def test_objects_in_a_batch_do_not_see_each_other():
    # per-object GroupNorm statistics and per-object cross-attention: batching changes nothing
    arch = _arch()
    net = OctreeUNet(arch).eval()
    meshes, seeds = [box_mesh(), box_mesh((0.3, 0.3, 0.45))], [0, 1]
    ctx = torch.randn(2, CONTEXT_LENGTH, arch.context_dim)
    both = build_octree_batch(meshes, 5000, arch.depth, arch.full_depth, seeds=seeds)
    out = net(both.features, both.octree, ctx)
    for i in range(2):
        one = build_octree_batch(meshes[i:i + 1], 5000, arch.depth, arch.full_depth, seeds=seeds[i:i + 1])
        ref = net(one.features, one.octree, ctx[i:i + 1])
        assert torch.allclose(torch.split(out, both.counts)[i], ref, atol=1e-5)


def test_the_text_condition_reaches_the_output():
    arch = _arch()
    net = OctreeUNet(arch).eval()
    b = build_octree_batch([box_mesh()], 5000, arch.depth, arch.full_depth)
    a = net(b.features, b.octree, torch.zeros(1, CONTEXT_LENGTH, arch.context_dim))
    c = net(b.features, b.octree, torch.ones(1, CONTEXT_LENGTH, arch.context_dim))
    assert (a - c).abs().max() > 1e-4


def test_gradient_checkpointing_gives_the_same_gradients():
    arch = _arch()
    torch.manual_seed(0)
    net = OctreeUNet(arch)
    b = build_octree_batch([box_mesh()], 5000, arch.depth, arch.full_depth)
    ctx = torch.randn(1, CONTEXT_LENGTH, arch.context_dim)
    grads = []
    for enabled in (False, True):
        net.zero_grad()
        net.set_checkpointing(enabled)
        net(b.features, b.octree, ctx).square().mean().backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    assert all(torch.allclose(g0, g1, atol=1e-6) for g0, g1 in zip(*grads))


def test_group_norm_groups_follow_the_ocnn_rule():
    arch = ARCHITECTURES["texgaussian"]
    new, old = meta_unet(arch, min_group_channels=4), meta_unet(arch, min_group_channels=1)
    assert new.down_blocks[0].nets[0].norm1.group == 16   # 64 channels, >= 4 per group (ocnn >= 2.2.4)
    assert old.down_blocks[0].nets[0].norm1.group == 32   # 32 groups everywhere (ocnn < 2.2.4)
    assert new.down_blocks[1].nets[0].norm2.group == 32   # 128 channels: 32 groups either way


def test_head_activations_frame_and_splat_multiplier():
    raw = torch.zeros(3, 10)
    raw[:, 0] = torch.tensor([-2.0, 0.0, 2.0])
    raw[0, 1:4] = torch.tensor([0.0, 1.0, 2.0])  # network-frame x, y, z
    raw[:, 4:7] = 3.0
    raw[:, 7:10] = torch.tensor([5.0, -1.0, 1.0])
    centres = torch.rand(3, 3)
    g, mat = leaf_gaussians(raw, centres, scale=2.0, k=1.5)
    assert torch.allclose(g.opacities, torch.sigmoid(raw[:, 0]))
    sp = torch.nn.functional.softplus(torch.tensor([0.0, 1.0, 2.0]))
    # world (x, y, z) = network (x, -z, y): std devs (x, z, y), divided by the frame scale
    assert torch.allclose(g.scales[0], 0.01 * 1.5 * sp[[0, 2, 1]] / 2.0)
    assert torch.allclose(g.means, centres) and torch.equal(g.quats, torch.tensor([[1.0, 0, 0, 0]] * 3))
    assert torch.allclose(g.colors, torch.full((3, 3), torch.sigmoid(torch.tensor(3.0)).item()))
    assert torch.allclose(mat, torch.sigmoid(torch.tensor([[-1.0, 1.0]] * 3)))  # (roughness, metallic) = (G, B)
    assert splat_multiplier(39.6) == pytest.approx(1.0)
    assert splat_multiplier(30.0) == pytest.approx(math.tan(math.radians(19.8)) / math.tan(math.radians(15)))
    assert splat_multiplier(30.0) == pytest.approx(1.3436, abs=1e-4)


def test_text_tokens_pad_with_zeros_and_keep_the_end_token():
    te = tiny_text_encoder()
    ids = te.tokenize(["a box", "word " * 200])
    eot = te.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    bot = te.tokenizer.convert_tokens_to_ids("<|startoftext|>")
    assert ids.shape == (2, CONTEXT_LENGTH) and (ids[:, 0] == bot).all()
    n = int((ids[0] != 0).sum())
    assert ids[0, n - 1] == eot and (ids[0, n:] == 0).all()  # OpenAI clip.tokenize padding
    assert ids[1, -1] == eot  # truncated to 77 with the end token kept
    out = te(["a box", ""])
    assert out.shape == (2, CONTEXT_LENGTH, te.width) and not out.requires_grad
    assert not torch.allclose(out[0], out[1])


def test_missing_clip_weights_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTO3D_CLIP_L14", str(tmp_path / "nowhere"))
    with pytest.raises(WeightsNotFoundError, match=r"huggingface-cli download openai/clip-vit-large-patch14.*PHOTO3D_CLIP_L14"):
        load_text_encoder()


def test_the_text_width_must_match_the_unet():
    with pytest.raises(InputError, match="context width"):
        FeedForwardTexturer(FeedForwardConfig(model="tiny"), tiny_text_encoder(width=48))
