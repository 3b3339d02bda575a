"""Tiny random models saved to folders in the layouts their libraries write (no weights, no hub).

Each is built from a config with the real classes of transformers / diffusers and written with
``save_pretrained``, so loading it exercises exactly the ``from_pretrained`` path of a real model.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

WORDS = ["<pad>", "<s>", "</s>", "<unk>", *"a an the cat dog chair wooden red old table lamp system user assistant : , .".split()]
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
                 "{% if add_generation_prompt %}assistant : {% endif %}")


def _word_tokenizer(**special):
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", **special)


def tiny_llama(folder: Path) -> Path:
    """A 1-layer random Llama chat model with a word-level tokenizer and a chat template."""
    import transformers

    tok = _word_tokenizer(bos_token="<s>", eos_token="</s>")
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=len(WORDS), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                   num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                                   bos_token_id=1, eos_token_id=2, pad_token_id=0)
    transformers.LlamaForCausalLM(cfg).save_pretrained(folder)
    return folder


def _flux_components(folder: Path) -> dict:
    import diffusers
    import transformers

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, **{c + "</w>": i + 2 for i, c in enumerate(letters)},
             **{c: i + 28 for i, c in enumerate(letters)}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clip_vocab.json").write_text(json.dumps(vocab))
    (folder / "clip_merges.txt").write_text("#version: 0.2\n")
    torch.manual_seed(0)
    return {
        "scheduler": diffusers.FlowMatchEulerDiscreteScheduler(),
        "vae": diffusers.AutoencoderKL(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,),
                                       layers_per_block=1, latent_channels=1, norm_num_groups=1, use_quant_conv=False,
                                       use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035,
                                       down_block_types=("DownEncoderBlock2D",), up_block_types=("UpDecoderBlock2D",)),
        "text_encoder": transformers.CLIPTextModel(transformers.CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, hidden_size=32, intermediate_size=37, num_attention_heads=4,
            num_hidden_layers=1, pad_token_id=1, vocab_size=60, projection_dim=32, max_position_embeddings=77)),
        "tokenizer": transformers.CLIPTokenizer(str(folder / "clip_vocab.json"), str(folder / "clip_merges.txt"),
                                                model_max_length=77),
        "text_encoder_2": transformers.T5EncoderModel(transformers.T5Config(
            vocab_size=len(WORDS) + 8, d_model=32, d_ff=37, num_layers=1, num_heads=2, d_kv=16)),
        "tokenizer_2": _word_tokenizer(eos_token="</s>", model_max_length=512),
        "transformer": diffusers.FluxTransformer2DModel(
            patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
            num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=[4, 4, 8]),
    }


def tiny_flux(folder: Path, pipeline: str = "FluxPipeline") -> Path:
    """A random FLUX-architecture pipeline (``FluxPipeline`` or ``FluxKontextPipeline``) saved to ``folder``."""
    import diffusers

    getattr(diffusers, pipeline)(**_flux_components(folder / "_parts")).save_pretrained(folder)
    return folder
