"""Real-weight loading: released adapter key names on an SDXL-sized UNet (meta device), local folders."""

from __future__ import annotations

import json

import pytest
import torch

from photo3d.errors import InputError, WeightsNotFoundError
from photo3d.paradigms.mvdiffusion.attention import install_mv_attention
from photo3d.paradigms.mvdiffusion.weights import (
    SDXL_UNET_CONFIG, SDXL_VAE_CONFIG, adapter_config, adapter_state_dict, find_weights, load_adapter_state,
    load_pretrained, read_safetensors, save_adapter,
)

# Self-attention layers of SDXL's UNet, from its published config: (prefix, attentions, transformer
# depth, width). Down blocks 1-2 have layers_per_block = 2 attentions, up blocks 0-1 have 3.
SDXL_SELF_ATTENTION = [("down_blocks.1", 2, 2, 640), ("down_blocks.2", 2, 10, 1280), ("mid_block", 1, 10, 1280),
                       ("up_blocks.0", 3, 10, 1280), ("up_blocks.1", 3, 2, 640)]


def released_adapter_layout() -> dict[str, tuple[int, ...]]:
    """Key -> shape of an ig2mv SDXL adapter file, written out from upstream's naming rule.

    ``_save_custom_adapter`` keeps the UNet state-dict entries containing ``_mv``/``_ref``: every
    ``attn1`` processor's ``to_{q,k,v}_{mv,ref}`` (no bias) and ``to_out_{mv,ref}.0`` (with bias).
    """
    out = {}
    for prefix, n_att, depth, c in SDXL_SELF_ATTENTION:
        for i in range(n_att):
            for j in range(depth):
                layer = f"{prefix}.attentions.{i}.transformer_blocks.{j}.attn1.processor"
                for b in ("mv", "ref"):
                    for p in "qkv":
                        out[f"{layer}.to_{p}_{b}.weight"] = (c, c)
                    out[f"{layer}.to_out_{b}.0.weight"] = (c, c)
                    out[f"{layer}.to_out_{b}.0.bias"] = (c,)
    return out


def _sdxl_on_meta():
    import diffusers

    with torch.device("meta"):
        unet = diffusers.UNet2DConditionModel(**SDXL_UNET_CONFIG)
        adapter = diffusers.T2IAdapter(**adapter_config())
    return unet, adapter


def test_released_key_names_and_shapes_load_into_an_sdxl_sized_unet():
    unet, adapter = _sdxl_on_meta()
    assert sum(p.numel() for p in unet.parameters()) == 2_567_463_684  # SDXL base UNet, as published
    install_mv_attention(unet, init_from_base=False)
    layout = released_adapter_layout()
    assert len(layout) == 700  # 70 self-attention layers x 10 tensors
    with torch.device("meta"):
        state = {k: torch.empty(s, dtype=torch.float16) for k, s in layout.items()}
        state.update({k: torch.empty_like(v, dtype=torch.float16) for k, v in adapter.state_dict().items()})
    assert "adapter.conv_in.weight" in state and tuple(state["adapter.conv_in.weight"].shape) == (320, 6 * 16 * 16, 3, 3)
    n = load_adapter_state(unet, adapter, state, source="step1x-3d-ig2v.safetensors")
    assert n == len(state)
    # the file's tensors are now the modules' (meta: assigned, not copied)
    key = "mid_block.attentions.0.transformer_blocks.9.attn1.processor.to_out_ref.0.bias"
    assert unet.get_parameter(key) is not None and unet.get_parameter(key).dtype == torch.float16
    # Step1X-3D's texture model is "3.5B" parameters: SDXL's UNet + these 0.82B + the 0.08B adapter
    extra = sum(torch.Size(s).numel() for s in layout.values()) + sum(p.numel() for p in adapter.parameters())
    assert abs((2_567_463_684 + extra) / 1e9 - 3.5) < 0.05


def test_bad_adapter_files_fail_with_one_line():
    unet, adapter = _sdxl_on_meta()
    install_mv_attention(unet, init_from_base=False)
    with torch.device("meta"):
        good = {k: torch.empty(s) for k, s in released_adapter_layout().items()}
        good.update({k: torch.empty_like(v) for k, v in adapter.state_dict().items()})
    missing = dict(good)
    missing.pop("adapter.conv_in.weight")
    with pytest.raises(InputError, match=r"1 of \d+ expected tensors missing \(e.g. adapter.conv_in.weight\)"):
        load_adapter_state(unet, adapter, missing, source="x.safetensors")
    shaped = dict(good)
    key = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_q_mv.weight"
    with torch.device("meta"):
        shaped[key] = torch.empty(320, 320)
    with pytest.raises(InputError, match="other shapes") as err:
        load_adapter_state(unet, adapter, shaped, source="x.safetensors")
    assert "\n" not in str(err.value) and key in str(err.value)
    with torch.device("meta"):
        extra = {**good, "unet.foo": torch.empty(1)}
    with pytest.raises(InputError, match="unexpected"):
        load_adapter_state(unet, adapter, extra)


def test_sdxl_vae_config_is_the_published_one():
    import diffusers

    with torch.device("meta"):
        vae = diffusers.AutoencoderKL(**SDXL_VAE_CONFIG)
    assert sum(p.numel() for p in vae.parameters()) == 83_653_863
    assert vae.config.scaling_factor == 0.13025


def _write_tokenizer(folder):
    import transformers

    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list(" ,.")
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tok = transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    tok.save_pretrained(folder)
    return len(vocab), tok


def write_tiny_sdxl_folder(root):
    """An SDXL-layout snapshot with tiny random components (the real loaders read it)."""
    import diffusers
    import transformers

    from photo3d.paradigms.mvdiffusion.schedule import SDXL_SCHEDULE

    base = root / "stable-diffusion-xl-base-1.0"
    torch.manual_seed(0)
    for sub, proj in (("text_encoder", None), ("text_encoder_2", 16)):
        n, tok = _write_tokenizer(base / sub.replace("text_encoder", "tokenizer"))
        kw = dict(vocab_size=n, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                  max_position_embeddings=77, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
        model = (transformers.CLIPTextModelWithProjection(transformers.CLIPTextConfig(projection_dim=proj, **kw))
                 if proj else transformers.CLIPTextModel(transformers.CLIPTextConfig(**kw)))
        model.save_pretrained(base / sub)
    diffusers.UNet2DConditionModel(
        sample_size=8, layers_per_block=1, block_out_channels=(16, 32, 32), norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 2, 2),
        cross_attention_dim=32, use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, projection_class_embeddings_input_dim=16 + 6 * 8).save_pretrained(base / "unet")
    diffusers.EulerDiscreteScheduler(**{k: v for k, v in SDXL_SCHEDULE.items() if k not in ("clip_sample", "set_alpha_to_one")}
                                     ).save_pretrained(base / "scheduler")
    diffusers.AutoencoderKL(block_out_channels=(8, 8, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1, norm_num_groups=8,
                            latent_channels=4, force_upcast=False).save_pretrained(root / "sdxl-vae-fp16-fix")
    return base


def _predict(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(6, 4, 4, 4, generator=g)
    cond = model.prompt_embeddings(["a box"], 32, 32)
    feats = model.geometry_features(torch.rand(6, 6, 32, 32, generator=g))
    states = model.reference_states(torch.randn(1, 4, 4, 4, generator=g), cond)
    return model.predict(x, torch.full((6,), 400), cond, feats, states)


def test_load_from_a_local_sdxl_folder_and_round_trip_the_adapter_file(tmp_path):
    base = write_tiny_sdxl_folder(tmp_path)
    with pytest.raises(WeightsNotFoundError, match="huggingface-cli download stepfun-ai/Step1X-3D"):
        find_weights(tmp_path)
    fresh = load_pretrained(tmp_path, adapter="init")
    assert fresh.description["standin"] is False and "untrained" in fresh.description["adapter"]
    assert fresh.text.encode(["a box"])[0].shape == (1, 77, 32)
    with torch.no_grad():  # as if trained: no zero out-projections left
        for p in [*fresh.mv_attention().parameters(), *fresh.adapter.parameters()]:
            p.add_(0.05 * torch.randn_like(p))
    path = save_adapter(fresh, tmp_path / "step1x-3d-ig2v.safetensors")
    assert set(read_safetensors(path)) == set(adapter_state_dict(fresh))
    parts = find_weights(tmp_path)
    assert parts == {"base": base, "vae": tmp_path / "sdxl-vae-fp16-fix", "adapter": path}
    loaded = load_pretrained(tmp_path)
    assert loaded.description["is_paper_model"] is True
    for k, v in adapter_state_dict(fresh).items():
        assert torch.equal(adapter_state_dict(loaded)[k], v), k
    assert torch.allclose(_predict(loaded), _predict(fresh), atol=1e-6)
    assert loaded.scheduler.config.prediction_type == "epsilon" and type(loaded.scheduler).__name__ == "DDPMScheduler"


def test_missing_parts_are_named(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="no such weights folder"):
        find_weights(tmp_path / "nope")
    with pytest.raises(WeightsNotFoundError, match="base model"):
        find_weights(tmp_path)
    write_tiny_sdxl_folder(tmp_path)
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        find_weights(tmp_path, adapter=tmp_path / "missing.safetensors")
    (tmp_path / "sdxl-vae-fp16-fix" / "config.json").unlink()  # and the snapshot has no vae/ either
    with pytest.raises(WeightsNotFoundError, match="vae .*huggingface-cli download madebyollin/sdxl-vae-fp16-fix"):
        find_weights(tmp_path, "init")
