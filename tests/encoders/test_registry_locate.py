"""DINOv2 with registers loads; unsupported towers are named; weights are located without loading."""

from __future__ import annotations

import pytest
import torch

from photo3d.encoders import load_encoder
from photo3d.encoders.registry import locate_weights, weights_source
from photo3d.errors import UnsupportedModelError
from photo3d.testing.caches import write_hf_snapshot

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            image_size=32, patch_size=8)


def _tiny_dinov2_registers(folder):
    import transformers

    torch.manual_seed(0)
    cfg = transformers.Dinov2WithRegistersConfig(**TINY, num_register_tokens=4)
    model = transformers.Dinov2WithRegistersModel(cfg).eval()
    model.save_pretrained(folder)
    return model


def test_dinov2_with_registers_checkpoint_loads_and_drops_its_registers(tmp_path, monkeypatch):
    """Before, a ``dinov2_with_registers`` config.json stopped loading with 'unsupported model_type'."""
    model = _tiny_dinov2_registers(tmp_path / "reg")
    enc = load_encoder(str(tmp_path / "reg"))
    assert enc.num_prefix == 1 + 4
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        out = model(pixel_values=enc.normalize(x))
    torch.testing.assert_close(enc.patch_tokens(x).flatten(2).transpose(1, 2), out.last_hidden_state[:, 5:])
    monkeypatch.setenv("PHOTO3D_DINOV2_REG", str(tmp_path / "reg"))
    assert load_encoder("dinov2-vitl14-reg").num_prefix == 5


def test_unsupported_tower_is_one_clear_error(tmp_path):
    import transformers

    transformers.ViTModel(transformers.ViTConfig(**TINY)).save_pretrained(tmp_path / "vit")
    with pytest.raises(UnsupportedModelError) as info:
        load_encoder(str(tmp_path / "vit"))
    assert "'vit'" in str(info.value) and "DINOv2" in str(info.value) and "\n" not in str(info.value)


def test_locate_weights_in_the_hub_cache_and_through_the_variable(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("PHOTO3D_FLUX", raising=False)
    missing = locate_weights("flux-dev")
    assert not missing.found and "huggingface-cli download black-forest-labs/FLUX.1-dev" in missing.how
    snap = write_hf_snapshot(tmp_path / "hub", "black-forest-labs/FLUX.1-dev", ["model_index.json"])
    assert locate_weights("flux-dev").where == str(snap)
    assert locate_weights("black-forest-labs/FLUX.1-dev").found  # the hub id names the same model
    adapter = write_hf_snapshot(tmp_path / "hub", "stepfun-ai/Step1X-3D",
                                ["Step1X-3D-Texture/step1x-3d-ig2v.safetensors"])
    assert locate_weights("step1x3d-texture").where == str(adapter)  # the snapshot, not its subfolder
    monkeypatch.setenv("PHOTO3D_FLUX", str(tmp_path / "empty"))
    bad = locate_weights("flux-dev")
    assert not bad.found and bad.via == "$PHOTO3D_FLUX" and "model_index.json" in bad.how
    assert weights_source("black-forest-labs/FLUX.1-dev") == str(tmp_path / "empty")
