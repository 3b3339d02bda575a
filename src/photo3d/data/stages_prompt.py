"""Stages 2-4 of the prompt path: rewrite -> text-to-image -> background removal -> image-to-3D."""

from __future__ import annotations

from typing import Any

import numpy as np

from photo3d.data.clients import Endpoint, OpenAIClient
from photo3d.data.stage import Stage, StageContext, StageFailure
from photo3d.io import atomic_write_bytes, encode_png, open_pil


def _openai_version() -> str | None:
    from photo3d.data.models import _version

    return _version("openai")


def _png(image) -> bytes:
    """PNG bytes of a PIL image (what local pipelines return)."""
    return encode_png(np.asarray(image))


class RewriteStage(Stage):
    """Source prompt -> ONE object-centric description with realistic attributes (spec 2.2).

    Record: ``{"prompt": str}``.
    """

    name = "rewrite"
    outputs = ("prompt",)

    def __init__(self, cfg, api) -> None:
        self.cfg = cfg
        self.kind = "api" if cfg.backend == "openai" else "gpu"
        if cfg.backend == "openai":
            self.client = OpenAIClient(Endpoint.from_config(api, cfg.base_url, cfg.api_key_env))
        elif cfg.backend == "transformers":
            from photo3d.data.models import TransformersRewriter

            self.local = TransformersRewriter(cfg.model, cfg.max_tokens, cfg.device)
        else:
            raise ValueError(f"rewrite.backend must be 'openai', 'transformers' or 'none', got {cfg.backend!r}")

    def describe(self) -> dict[str, Any]:
        if self.cfg.backend == "openai":
            return {"backend": "openai-chat", "model": self.cfg.model, "openai": _openai_version()}
        return self.local.describe()

    def process(self, ctx: StageContext) -> dict[str, Any]:
        messages = [{"role": "system", "content": self.cfg.system_prompt},
                    {"role": "user", "content": ctx.sample.prompt}]
        if self.cfg.backend == "openai":
            client, cfg = self.client, self.cfg

            def call():
                text = client.chat(cfg.model, messages, cfg.temperature, cfg.max_tokens, seed=ctx.seed)
                return {"model": cfg.model, "cost_usd": client.endpoint.price(cfg.model), "text": text}, None

            meta, _ = ctx.paid_call("chat", call)
            text = meta["text"]
        else:
            text = self.local(messages, seed=ctx.seed)
        text = " ".join(text.split()).strip().strip('"')
        if not text:
            raise StageFailure("empty_rewrite", "the rewriter returned no text")
        return {"prompt": text}


class TextToImageStage(Stage):
    """Description -> one object image. Record: ``{"image": rel path, "seed": int}``."""

    name = "text_to_image"
    inputs = ("rewrite",)
    outputs = ("image",)

    def __init__(self, cfg, api, has_rewrite: bool = True) -> None:
        self.cfg = cfg
        self.inputs = ("rewrite",) if has_rewrite else ()
        self.kind = "api" if cfg.backend == "openai" else "gpu"
        if cfg.backend == "openai":
            self.client = OpenAIClient(Endpoint.from_config(api, cfg.base_url, cfg.api_key_env))
        elif cfg.backend == "flux":
            from photo3d.data.models import FluxGenerator

            self.local = FluxGenerator(cfg.model, cfg.size, cfg.steps, cfg.guidance, cfg.device, cfg.offload)
        else:
            raise ValueError(f"text_to_image.backend must be 'openai' or 'flux', got {cfg.backend!r}")

    def setup(self) -> None:
        if self.cfg.backend != "openai":
            self.local.load()

    def describe(self) -> dict[str, Any]:
        if self.cfg.backend == "openai":
            return {"backend": "openai-images", "model": self.cfg.model, "size": self.cfg.size,
                    "openai": _openai_version()}
        return self.local.describe()

    def process(self, ctx: StageContext) -> dict[str, Any]:
        prompt = ctx.records["rewrite"]["prompt"] if self.inputs else ctx.sample.prompt
        if self.cfg.backend == "openai":
            client, cfg = self.client, self.cfg

            def call():
                png = client.generate_image(cfg.model, prompt, f"{cfg.size}x{cfg.size}", seed=ctx.seed)
                return {"model": cfg.model, "cost_usd": client.endpoint.price(cfg.model)}, png

            _, png = ctx.paid_call("generate", call, ext=".png")
            seed = None  # the images API takes no seed
        else:
            png = _png(self.local(prompt, ctx.seed))
            seed = ctx.seed
        path = ctx.workdir / "image.png"
        atomic_write_bytes(path, png)
        return {"image": ctx.rel(path), "seed": seed}


class MattingStage(Stage):
    """Background removal. Record: ``{"image": rel path of an RGBA PNG, "backend": str}``."""

    name = "matting"
    inputs = ("text_to_image",)
    outputs = ("image",)
    kind = "cpu"

    def __init__(self, cfg) -> None:
        self.cfg = cfg

    def describe(self) -> dict[str, Any]:
        from photo3d._optional import is_available

        used = self.cfg.backend if self.cfg.backend != "auto" else ("rembg" if is_available("rembg") else "threshold")
        return {"backend": used}

    def process(self, ctx: StageContext) -> dict[str, Any]:
        from photo3d.data.matting import remove_background

        image = open_pil(ctx.path(ctx.records["text_to_image"]["image"]), "RGB")
        rgba, used = remove_background(image, self.cfg.backend, self.cfg.white_tolerance)
        path = atomic_write_bytes(ctx.workdir / "matted.png", _png(rgba))
        return {"image": ctx.rel(path), "backend": used}


class ImageTo3DStage(Stage):
    """Matted image -> 3D asset. Record: ``{"mesh": rel path, "frame": "world" | "y-up" | "gaussians"}``."""

    name = "image_to_3d"
    inputs = ("matting",)
    outputs = ("mesh", "frame")

    def __init__(self, cfg) -> None:
        from photo3d.data import models

        self.cfg = cfg
        self.kind = "cpu" if cfg.backend == "card" else "gpu"
        makers = {"trellis": lambda: models.TrellisLifter(cfg.model, cfg.device, cfg.checkpoint),
                  "hunyuan3d": lambda: models.Hunyuan3DLifter(
                      cfg.model if "TRELLIS" not in cfg.model else "tencent/Hunyuan3D-2", cfg.device, cfg.texture),
                  "card": models.CardLifter}
        if cfg.backend not in makers:
            raise ValueError(f"image_to_3d.backend must be one of {sorted(makers)}, got {cfg.backend!r}")
        self.lifter = makers[cfg.backend]()

    def setup(self) -> None:
        self.lifter.load()

    def describe(self) -> dict[str, Any]:
        return self.lifter.describe()

    def process(self, ctx: StageContext) -> dict[str, Any]:
        image = open_pil(ctx.path(ctx.records["matting"]["image"]), "RGBA")
        path, frame = self.lifter(image, ctx.seed, ctx.workdir)
        return {"mesh": ctx.rel(path), "frame": frame, "seed": ctx.seed}
