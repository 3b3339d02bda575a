"""Checkpoint loading against TexGaussian's real key names and shapes (meta tensors, no allocation)."""

from __future__ import annotations

import math

import pytest
import torch

from photo3d.errors import InputError, WeightsNotFoundError
from photo3d.paradigms.feedforward.checkpoint import load_unet_weights, read_state_dict, resolve_checkpoint
from photo3d.paradigms.feedforward.config import ARCHITECTURES
from photo3d.paradigms.feedforward.unet import OctreeUNet, meta_unet
from texgaussian_keys import clip_l14_text_shapes, released_checkpoint_meta, released_unet_shapes


@pytest.fixture(scope="module")
def released_unet():
    return meta_unet(ARCHITECTURES["texgaussian"])


def test_released_architecture_has_the_released_tensors(released_unet):
    ref = released_unet_shapes()
    own = {k: tuple(v.shape) for k, v in released_unet.state_dict().items()}
    assert own == ref
    assert sum(math.prod(s) for s in ref.values()) == 295_094_112  # "295M" in TexGaussian's model table
    assert all(p.device.type == "meta" for p in released_unet.parameters())


def test_released_wrapper_layout_loads_key_for_key(released_unet):
    state = released_checkpoint_meta(with_text=True)
    report = load_unet_weights(released_unet, "PBR_model.safetensors", copy="ema", state=state)
    assert report.loaded == 380 and report.source == "ema_model.*" and report.unmatched == []
    n_text = len(clip_l14_text_shapes())
    assert sorted(report.ignored.values()) == sorted([380, n_text])
    line = str(report)
    assert "\n" not in line and "loaded 380 U-Net tensors from ema_model.*" in line and "unmatched keys: none" in line
    other = load_unet_weights(released_unet, "x", copy="model", state=released_checkpoint_meta(with_text=False))
    assert other.source == "model.*" and other.loaded == 380


def test_unexpected_and_missing_keys_are_reported_in_one_line(released_unet):
    state = released_checkpoint_meta(with_text=False)
    state["ema_model.extra_head.weight"] = torch.empty(3, device="meta")
    state["lpips_loss.net.weight"] = torch.empty(3, device="meta")
    report = load_unet_weights(released_unet, "ckpt", state=state)
    assert report.unmatched == ["extra_head.weight", "lpips_loss.net.weight"]
    assert "unmatched keys: extra_head.weight, lpips_loss.net.weight" in str(report)
    del state["ema_model.conv_in.weights"]
    state["ema_model.conv.bias"] = torch.empty(7, device="meta")
    with pytest.raises(InputError, match=r"1 missing \(conv_in.weights\).*1 of another shape \(conv.bias \(7,\) vs \(10,\)\)"):
        load_unet_weights(released_unet, "ckpt", state=state)


def test_tiny_checkpoint_values_round_trip_through_safetensors(tmp_path):
    from safetensors.torch import save_file

    arch = ARCHITECTURES["tiny"]
    torch.manual_seed(1)
    src_ema, src_model = OctreeUNet(arch), OctreeUNet(arch)
    state = {f"ema_model.{k}": v for k, v in src_ema.state_dict().items()}
    state.update({f"module.model.{k}": v for k, v in src_model.state_dict().items()})  # DDP prefix
    state["text_encoder.model.ln_final.weight"] = torch.ones(4)
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "model.safetensors"))
    dst = OctreeUNet(arch)
    report = load_unet_weights(dst, tmp_path)  # a folder: finds model.safetensors
    assert report.unmatched == [] and report.loaded == len(dst.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(dst.state_dict().values(), src_ema.state_dict().values()))
    load_unet_weights(dst, tmp_path / "model.safetensors", copy="model")
    assert all(torch.equal(a, b) for a, b in zip(dst.state_dict().values(), src_model.state_dict().values()))


def test_a_training_run_checkpoint_loads_its_ema(tmp_path):
    from photo3d.train.checkpoint import save_checkpoint

    arch = ARCHITECTURES["tiny"]
    net = OctreeUNet(arch)
    shadow = {f"unet.{k}": torch.full_like(v, 0.5) for k, v in net.state_dict().items()}
    save_checkpoint(tmp_path / "step_0000002.safetensors",
                    {"step": 2, "modules": {"unet": net.state_dict()}, "ema": {"decay": 0.9, "shadow": shadow}})
    dst = OctreeUNet(arch)
    assert load_unet_weights(dst, tmp_path).source == "the run's EMA"  # the folder's latest.safetensors
    assert all((v == 0.5).all() for v in dst.state_dict().values())
    assert load_unet_weights(dst, tmp_path / "step_0000002.safetensors", copy="model").source == "the run's weights"
    assert torch.equal(dst.conv.bias, net.conv.bias)


def test_wrong_architecture_and_missing_files(tmp_path):
    tiny = meta_unet(ARCHITECTURES["tiny"])
    with pytest.raises(InputError, match=r"does not fit the 16x\(1, 2, 2\) octree U-Net.*pick the matching --model"):
        load_unet_weights(tiny, "PBR_model.safetensors", state=released_checkpoint_meta(with_text=False))
    with pytest.raises(WeightsNotFoundError, match="huggingface.co/ymxbj/TexGaussian"):
        resolve_checkpoint(tmp_path / "nope.safetensors")
    with pytest.raises(WeightsNotFoundError, match="no checkpoint inside"):
        resolve_checkpoint(tmp_path)
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        read_state_dict(tmp_path / "bad.safetensors")
    (tmp_path / "old.pt").write_bytes(b"pickle")
    with pytest.raises(InputError, match="does not unpickle"):
        read_state_dict(tmp_path / "old.pt")
