"""The text condition: CLIP ViT-L/14 text tokens through ``transformers`` (frozen).

TexGaussian conditions its U-Net on the *whole* token sequence of OpenAI CLIP ViT-L/14's text
transformer after the final LayerNorm (``ln_final``), 77 x 768, not on the pooled embedding.
With ``transformers`` that is ``CLIPTextModel(...).last_hidden_state`` (the HF model applies
``final_layer_norm`` before returning it).

Padding matters because every one of the 77 positions is a key/value of the cross-attention:
OpenAI's ``clip.tokenize`` pads with token id 0 after the end-of-text token, while HF's CLIP
tokenizer pads with the end-of-text id. :meth:`CLIPTextTokens.tokenize` pads with 0, as the
released model saw in training. Long prompts are truncated to 77 tokens keeping the end-of-text
token (``clip.tokenize(..., truncate=True)``). No attention mask is passed: CLIP's causal mask
is the only one, as in OpenAI's code.
"""

from __future__ import annotations

import torch
from torch import nn

from photo3d._optional import require
from photo3d.paradigms.feedforward.config import CLIP_L14

CONTEXT_LENGTH = 77
KNOWN_NAME = "clip-vit-l14"  # its entry in photo3d.encoders.registry (weights id, PHOTO3D_CLIP_L14)


class CLIPTextTokens(nn.Module):
    """Frozen CLIP text tower: prompts -> ``[B, 77, D]`` token features after the final LayerNorm.

    Args:
        model: a ``transformers.CLIPTextModel``.
        tokenizer: its ``CLIPTokenizer``.
        name: what runs (for records).
        is_paper_model: True for CLIP ViT-L/14 (the released TexGaussian's text encoder).
    """

    def __init__(self, model: nn.Module, tokenizer, name: str, is_paper_model: bool) -> None:
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.name = name
        self.is_paper_model = is_paper_model
        self.width = int(model.config.hidden_size)
        if int(model.config.max_position_embeddings) < CONTEXT_LENGTH:
            raise ValueError(f"{name}: needs {CONTEXT_LENGTH} positions, "
                             f"has {model.config.max_position_embeddings}")

    def train(self, mode: bool = True) -> CLIPTextTokens:
        return super().train(False)  # frozen: dropout etc. stay off

    def tokenize(self, prompts: list[str]) -> torch.Tensor:
        """``[B, 77]`` int64 ids: start, tokens, end, then zeros (OpenAI ``clip.tokenize`` padding)."""
        ids = torch.zeros(len(prompts), CONTEXT_LENGTH, dtype=torch.long)
        for i, text in enumerate(prompts):
            tok = self.tokenizer(text or "", truncation=True, max_length=CONTEXT_LENGTH)["input_ids"]
            ids[i, :len(tok)] = torch.as_tensor(tok, dtype=torch.long)
        return ids

    @torch.no_grad()
    def forward(self, prompts: list[str]) -> torch.Tensor:
        """Prompts -> ``[B, 77, width]`` float32 (``last_hidden_state``)."""
        device = next(self.model.parameters()).device
        ids = self.tokenize(prompts).to(device)
        return self.model(input_ids=ids).last_hidden_state.float()

    def describe(self) -> dict:
        return {"name": self.name, "is_paper_model": self.is_paper_model, "width": self.width}


def load_text_encoder(name_or_path: str = CLIP_L14, device: str | torch.device = "cpu") -> CLIPTextTokens:
    """Load the CLIP text tower from local files (``"tiny"`` = :func:`tiny_text_encoder`).

    Weights follow the one local-only policy of :func:`photo3d.encoders.registry.from_pretrained`:
    ``PHOTO3D_CLIP_L14`` points the default at a local folder, ``PHOTO3D_ALLOW_DOWNLOAD=1`` lets
    ``transformers`` download.

    Raises:
        WeightsNotFoundError: the files are not available locally (one line saying how to get them).
    """
    if name_or_path == "tiny":
        return tiny_text_encoder().to(device)
    from photo3d.encoders.registry import from_pretrained, weights_source

    tf = require("transformers", "the CLIP text encoder")
    name = KNOWN_NAME if name_or_path in (CLIP_L14, KNOWN_NAME) else name_or_path
    what = "CLIP ViT-L/14 text encoder (or --text-encoder tiny for a random test tower)"
    tokenizer = from_pretrained(tf.CLIPTokenizer, name, what)
    model = from_pretrained(tf.CLIPTextModel, name, what)
    source = weights_source(name)
    label = CLIP_L14 if name == KNOWN_NAME else name
    if source not in (label, CLIP_L14):
        label = f"{label} ({source})"
    return CLIPTextTokens(model, tokenizer, label, is_paper_model=name == KNOWN_NAME).to(device)


def tiny_tokenizer():
    """A real ``CLIPTokenizer`` over bytes only (514 ids, no merges): no vocabulary files needed."""
    tf = require("transformers", "the tiny CLIP text encoder")
    from tokenizers.pre_tokenizers import ByteLevel

    chars = sorted(ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    return tf.CLIPTokenizer(vocab=vocab, merges=[])


def tiny_text_encoder(width: int = 32, seed: int = 0) -> CLIPTextTokens:
    """A random 2-layer ``CLIPTextModel`` (77 positions, ``width`` channels) with :func:`tiny_tokenizer`."""
    tf = require("transformers", "the tiny CLIP text encoder")
    tokenizer = tiny_tokenizer()
    n = len(tokenizer)
    cfg = tf.CLIPTextConfig(vocab_size=n, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2,
                            num_attention_heads=2, max_position_embeddings=CONTEXT_LENGTH, projection_dim=width,
                            bos_token_id=n - 2, eos_token_id=n - 1, pad_token_id=0)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = tf.CLIPTextModel(cfg)
    finally:
        torch.random.set_rng_state(state)
    return CLIPTextTokens(model, tokenizer, "tiny CLIP text (random weights)", is_paper_model=False)
