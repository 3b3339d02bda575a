"""Encoders: wrappers return what the protocol promises; loading fails fast and clearly."""

from __future__ import annotations

import pytest
import torch

from photo3d.encoders import default_encoders, encoder_names, load_encoder
from photo3d.encoders.base import Encoder
from photo3d.errors import WeightsNotFoundError


@pytest.mark.parametrize("name", ["tiny-clip", "tiny-dino", "tiny-dinov2", "tiny-conv"])
def test_tiny_encoders_follow_protocol(name):
    enc = load_encoder(name)
    assert isinstance(enc, Encoder) and enc.is_standin
    x = torch.rand(2, 3, 32, 32)
    emb, tok = enc.embed(x), enc.patch_tokens(x)
    assert emb.ndim == 2 and emb.shape[0] == 2
    assert tok.shape[:1] == (2,) and tok.shape[-2:] == (32 // enc.patch_size,) * 2
    assert not any(p.requires_grad for p in enc.parameters())
    enc.train()
    assert not enc.training


def test_dinov3_tokens_drop_cls_and_registers():
    enc = load_encoder("tiny-dino")
    assert enc.num_prefix == 1 + 4
    x = torch.rand(1, 3, 32, 32)
    out = enc.model(pixel_values=enc.normalize(x))
    tok = enc.patch_tokens(x)
    torch.testing.assert_close(tok.flatten(2).transpose(1, 2), out.last_hidden_state[:, 5:])
    torch.testing.assert_close(enc.embed(x), out.last_hidden_state[:, 0])


def test_clip_tokens_after_post_layernorm_and_any_size():
    enc = load_encoder("tiny-clip")
    x = torch.rand(1, 3, 32, 32)
    out = enc.model(pixel_values=enc.normalize(x))
    ref = enc.model.vision_model.post_layernorm(out.last_hidden_state[:, 1:])
    torch.testing.assert_close(enc.patch_tokens(x).flatten(2).transpose(1, 2), ref)
    assert enc.patch_tokens(torch.rand(1, 3, 48, 48)).shape[-2:] == (6, 6)  # interpolated positions


def test_load_from_local_directory(tmp_path):
    enc = load_encoder("tiny-dinov2")
    enc.model.save_pretrained(tmp_path / "m")
    again = load_encoder(str(tmp_path / "m"))
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(again.patch_tokens(x), enc.patch_tokens(x))
    assert again.is_standin and str(tmp_path) in again.name


def test_missing_weights_raise_helpful_error(monkeypatch, tmp_path):
    monkeypatch.delenv("PHOTO3D_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as info:
        load_encoder("clip-vit-b32")
    msg = str(info.value)
    assert "huggingface-cli download openai/clip-vit-base-patch32" in msg and "PHOTO3D_CLIP" in msg
    with pytest.raises(WeightsNotFoundError, match="config.json"):
        load_encoder(str(tmp_path))  # a directory without a model


def test_default_encoders_offline_records_standin():
    adapt, match, record = default_encoders(prefer="offline")
    assert adapt is match and adapt.is_standin
    assert record["standin"] and "inception" in record["adapt"]["name"]
    assert "stand-in" in record["match"]["name"]
    assert {"clip-vit-b32", "dinov3-vitl16", "inception-fid"} <= set(encoder_names())


def test_inception_matches_package_features_and_is_differentiable():
    from photo3d.encoders.inception import InceptionFIDEncoder, inception_weights_path

    enc = InceptionFIDEncoder()
    x = torch.rand(1, 3, 299, 299)
    full = torch.jit.load(str(inception_weights_path()))
    with torch.no_grad():
        emb = enc.embed(x)
        ref = full((x * 255 - 128) / 128)  # fid-helper's own 2048-d feature
    torch.testing.assert_close(emb, ref, atol=1e-4, rtol=1e-4)
    small = torch.rand(1, 3, 96, 96, requires_grad=True)
    tok = enc.patch_tokens(small)
    assert tok.shape[1] == 768
    tok.square().sum().backward()
    assert small.grad.abs().sum() > 0


def test_one_environment_variable_per_model(monkeypatch, tmp_path):
    from photo3d.encoders.registry import weights_source

    monkeypatch.delenv("PHOTO3D_CLIP", raising=False)
    monkeypatch.delenv("PHOTO3D_CLIP_MODEL", raising=False)
    assert weights_source("clip-vit-b32") == "openai/clip-vit-base-patch32"
    monkeypatch.setenv("PHOTO3D_CLIP_MODEL", str(tmp_path / "old"))  # the former name still works
    assert weights_source("clip-vit-b32") == str(tmp_path / "old")
    monkeypatch.setenv("PHOTO3D_CLIP", str(tmp_path / "new"))
    assert weights_source("clip-vit-b32") == str(tmp_path / "new")
    assert weights_source(str(tmp_path)) == str(tmp_path)  # a path is itself


def test_one_selection_policy():
    adapt, match, record = default_encoders(prefer="tiny")
    assert "tiny-clip" in adapt.name and "tiny-dino" in match.name and record["standin"]
    with pytest.raises(ValueError, match="prefer"):
        default_encoders(prefer="best")
