"""SDXL's prompt conditioning: two CLIP text towers -> token embeddings + pooled embedding.

As in diffusers' ``StableDiffusionXLPipeline.encode_prompt`` (no clip skip): each tokenizer pads to
its ``model_max_length`` (77), each text tower returns hidden states, the second-to-last layer of
both is concatenated along channels (768 + 1280 = 2048 for SDXL) and the pooled embedding is the
last tower's projected output (1280). The UNet also takes "time ids" (original size, crop
top-left, target size), here always ``(H, W, 0, 0, H, W)`` as upstream.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn


class PromptEncoder:
    """Frozen text towers with their tokenizers; ``encode(prompts)`` caches per prompt.

    Args:
        tokenizers: callables with the Hugging Face tokenizer interface (``model_max_length``,
            ``__call__(texts, padding="max_length", max_length=..., truncation=True,
            return_tensors="pt").input_ids``).
        encoders: matching ``transformers`` CLIP text models; the last one must return the
            pooled (projected) embedding first (``CLIPTextModelWithProjection``).
        description: what these towers are (stored in run records).
    """

    def __init__(self, tokenizers: list, encoders: list[nn.Module], description: dict) -> None:
        if len(tokenizers) != len(encoders) or not encoders:
            raise ValueError("need one tokenizer per text encoder")
        self.tokenizers, self.encoders, self.description = list(tokenizers), list(encoders), description
        self._cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for enc in self.encoders:
            enc.requires_grad_(False).eval()

    @property
    def modules(self) -> list[nn.Module]:
        return self.encoders

    @property
    def pooled_dim(self) -> int:
        """Width of the pooled embedding (``text_encoder_2.config.projection_dim``)."""
        cfg = self.encoders[-1].config
        return int(getattr(cfg, "projection_dim", None) or cfg.hidden_size)

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings ``[B, L, D]`` and pooled embeddings ``[B, P]`` (float32, encoder device)."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._cache]
        if missing:
            tokens, pooled = [], None
            for tok, enc in zip(self.tokenizers, self.encoders):
                ids = tok(missing, padding="max_length", max_length=tok.model_max_length, truncation=True,
                          return_tensors="pt").input_ids
                out = enc(ids.to(next(enc.parameters()).device), output_hidden_states=True)
                if out[0].ndim == 2:
                    pooled = out[0]
                tokens.append(out.hidden_states[-2])
            emb = torch.cat(tokens, dim=-1).float()
            for i, p in enumerate(missing):
                self._cache[p] = (emb[i], pooled[i].float())
        return (torch.stack([self._cache[p][0] for p in prompts]),
                torch.stack([self._cache[p][1] for p in prompts]))


def time_ids(height: int, width: int, n: int, device=None) -> torch.Tensor:
    """``[n, 6]`` SDXL micro-conditioning ``(H, W, 0, 0, H, W)``."""
    return torch.tensor([[height, width, 0, 0, height, width]], dtype=torch.float32, device=device).repeat(n, 1)


class ByteTokenizer:
    """A vocabulary-free stand-in tokenizer for the tiny random towers (UTF-8 bytes + 2).

    Ids: 0 = pad, 1 = start, 2 + byte, 258 = end (the largest id, as in CLIP's vocabulary, and not
    2, which transformers' CLIP reads as a legacy end id). Only for smoke runs and tests: no real
    text model understands these ids.
    """

    PAD, BOS, OFFSET, EOS = 0, 1, 2, 258
    vocab_size = 259

    def __init__(self, model_max_length: int = 77) -> None:
        self.model_max_length = model_max_length

    def __call__(self, texts, padding="max_length", max_length=None, truncation=True, return_tensors="pt"):
        n = max_length or self.model_max_length
        rows = []
        for text in [texts] if isinstance(texts, str) else texts:
            ids = [self.BOS] + [self.OFFSET + b for b in text.encode("utf-8")][: n - 2] + [self.EOS]
            rows.append(ids + [self.PAD] * (n - len(ids)))
        return SimpleNamespace(input_ids=torch.tensor(rows, dtype=torch.long))


def tiny_prompt_encoder(width: int = 32, pooled: int = 32) -> PromptEncoder:
    """Two tiny random CLIP text towers (widths ``width`` and ``width``) behind :class:`ByteTokenizer`.

    Token embeddings are ``2 * width`` wide, pooled ones ``pooled``.
    """
    from photo3d._optional import require

    tr = require("transformers", "the tiny multi-view model's text towers")
    kw = dict(vocab_size=ByteTokenizer.vocab_size, hidden_size=width, intermediate_size=2 * width,
              num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=77,
              bos_token_id=ByteTokenizer.BOS, eos_token_id=ByteTokenizer.EOS, pad_token_id=ByteTokenizer.PAD)
    enc1 = tr.CLIPTextModel(tr.CLIPTextConfig(**kw))
    enc2 = tr.CLIPTextModelWithProjection(tr.CLIPTextConfig(projection_dim=pooled, **kw))
    return PromptEncoder([ByteTokenizer(), ByteTokenizer()], [enc1, enc2],
                         {"name": "tiny random CLIP text towers (stand-in)", "standin": True})
