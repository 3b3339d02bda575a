"""The four networks: real key names / shapes / dtypes, strict loading, tiny forwards, TRELLIS's quirks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from photo3d.errors import CheckpointMismatchError
from photo3d.trellis.presets import NETWORK_KEYS, TRELLIS_IMAGE_LARGE, preset
from photo3d.trellis.slat_flow import sparse_downsample, sparse_upsample
from photo3d.trellis.sparse import SparseTensor
from photo3d.trellis.weights import build_network, check_state_dict, load_network, load_state_dict_into

MANIFEST = json.loads((Path(__file__).with_name("data") / "trellis_image_large_keys.json").read_text())["networks"]


def _meta_network(key: str, cfg: dict | None = None):
    with torch.device("meta"):
        return build_network(cfg or TRELLIS_IMAGE_LARGE[key])


@pytest.mark.parametrize("key", NETWORK_KEYS)
def test_published_config_has_trellis_key_names_shapes_and_dtypes(key):
    """Built on the meta device (no memory) from the published config, incl. its fp16 torso."""
    own = {k: [list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in _meta_network(key).state_dict().items()}
    want = MANIFEST[key]["keys"]
    assert MANIFEST[key]["name"] == TRELLIS_IMAGE_LARGE[key]["name"]
    assert sorted(set(want) - set(own)) == [] and sorted(set(own) - set(want)) == []
    assert {k: v for k, v in own.items() if v != want[k]} == {}


@pytest.mark.parametrize("key", NETWORK_KEYS)
def test_synthetic_real_shape_state_dict_loads_strictly(key):
    """A synthetic checkpoint with the real names and shapes (meta tensors, fp16 like the files)."""
    model = _meta_network(key)
    state = {k: torch.empty(shape, dtype=torch.float16, device="meta") for k, (shape, _) in MANIFEST[key]["keys"].items()}
    assert load_state_dict_into(model, state, f"{key}.safetensors", assign=True) == []
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > {"sparse_structure_decoder": 50e6, "slat_decoder_gs": 80e6}.get(key, 500e6)


def test_mismatched_checkpoints_fail_with_one_line_naming_the_keys():
    model = _meta_network("slat_decoder_gs")
    good = {k: torch.empty(shape, device="meta") for k, (shape, _) in MANIFEST["slat_decoder_gs"]["keys"].items()}
    bad = dict(good)
    del bad["blocks.3.attn.to_qkv.weight"]
    bad["blocks.3.attn.qkv.weight"] = good["blocks.0.attn.to_qkv.weight"]
    bad["out_layer.weight"] = torch.empty(10, 768, device="meta")
    with pytest.raises(CheckpointMismatchError) as err:
        check_state_dict(model, bad, "slat_dec_gs_swin8_B_64l8gs32_fp16.safetensors")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("slat_dec_gs_swin8_B_64l8gs32_fp16.safetensors does not fit SLatGaussianDecoder")
    for part in ("1 missing keys (blocks.3.attn.to_qkv.weight)", "1 unexpected keys (blocks.3.attn.qkv.weight)",
                 "out_layer.weight (file [10, 768], network [448, 768])"):
        assert part in msg
    extra = {**good, "dino_cross_attns.0.gate": torch.empty(1, device="meta")}
    assert check_state_dict(model, extra, "f", skip_prefixes=("dino_cross_attns.",)) == ["dino_cross_attns.0.gate"]


def test_tiny_networks_run_and_keep_trellis_geometry():
    nets = preset("tiny")
    gen = torch.Generator().manual_seed(0)
    ss_flow, ss_dec = build_network(nets["sparse_structure_flow_model"]), build_network(nets["sparse_structure_decoder"])
    x = torch.randn(2, 8, 4, 4, 4, generator=gen)
    assert ss_flow(x, torch.tensor([500.0, 10.0]), torch.randn(2, 7, 32, generator=gen)).shape == x.shape
    assert ss_dec(x).shape == (2, 1, 16, 16, 16)
    coords = torch.argwhere(torch.rand(16, 16, 16, generator=gen) < 0.2).int()
    feats = [torch.randn(len(coords), 8, generator=gen), torch.randn(40, 8, generator=gen)]
    slat = SparseTensor.from_batches([coords, coords[:40]], feats)
    flow = build_network(nets["slat_flow_model"])
    t, cond = torch.tensor([300.0, 700.0]), torch.randn(2, 7, 32, generator=gen)
    v = flow(slat, t, cond)
    assert torch.equal(v.coords, slat.coords) and v.feats.shape == (len(coords) + 40, 8)
    alone = flow(SparseTensor.from_batches([coords[:40]], feats[1:]), t[1:], cond[1:])
    torch.testing.assert_close(v.feats[len(coords):], alone.feats, atol=1e-5, rtol=1e-5)  # samples are independent
    dec = build_network(nets["slat_decoder_gs"])
    g0, g1 = dec(slat)
    k = nets["slat_decoder_gs"]["args"]["representation_config"]["num_gaussians"]
    assert len(g0) == len(coords) * k and len(g1) == 40 * k
    centres = ((coords.float() + 0.5) / 16 - 0.5).repeat_interleave(k, 0)
    assert (g0.means - centres).abs().max() <= 0.5 * 1.5 / 16 + 1e-6  # tanh offsets stay within 0.75 voxel
    assert (g0.scales > 9e-4 - 1e-7).all()  # the 3D filter's minimum kernel size
    torch.testing.assert_close(dec(SparseTensor.from_batches([coords[:40]], feats[1:]))[0].means, g1.means)


def test_downsample_pools_with_trellis_extra_zero_and_upsample_inverts():
    coords = torch.tensor([[0, 0, 0, 0], [0, 1, 1, 1], [0, 3, 0, 0], [1, 0, 0, 1]], dtype=torch.int32)
    x = SparseTensor(coords, torch.tensor([[2.0], [4.0], [6.0], [8.0]]))
    down = sparse_downsample(x, 2)
    assert down.coords.tolist() == [[0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]]
    assert down.feats.flatten().tolist() == [(2 + 4) / 3, 6 / 2, 8 / 2]  # sum / (n + 1), as TRELLIS
    up = sparse_upsample(down.replace(torch.tensor([[1.0], [2.0], [3.0]])), 2)
    assert torch.equal(up.coords, coords) and up.feats.flatten().tolist() == [1.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="sparse_downsample"):
        sparse_upsample(x, 2)


def test_half_precision_files_load_into_fp32_and_bf16_networks(tmp_path):
    from safetensors.torch import save_file

    cfg = preset("tiny")["slat_decoder_gs"]
    net = build_network(cfg)
    (tmp_path / "dec.json").write_text(json.dumps(cfg))
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, str(tmp_path / "dec.safetensors"))
    fp32 = load_network(tmp_path / "dec")
    assert all(p.dtype == torch.float32 for p in fp32.parameters())
    torch.testing.assert_close(fp32.input_layer.weight, net.input_layer.weight.half().float())
    bf16 = load_network(tmp_path / "dec", torso_dtype=torch.bfloat16)
    assert bf16.blocks[0].attn.to_qkv.weight.dtype == torch.bfloat16 and bf16.input_layer.weight.dtype == torch.float32
    (tmp_path / "dec.json").write_text(json.dumps(preset("tiny")["slat_flow_model"]))
    with pytest.raises(CheckpointMismatchError, match="does not fit SLatFlowModel"):
        load_network(tmp_path / "dec")
