"""Grid editors: the photoreal edit of stage 6, behind one small interface.

An editor turns the render grid (PNG bytes) into an edited grid (PNG bytes) for one attempt.
Every result goes through :meth:`StageContext.paid_call`, so an edit that was paid for (or
computed) is stored before anything else happens to it and is never made twice.

* :class:`OpenAIEditor` -- ``client.images.edit(model=..., image=..., prompt=...)`` on any
  OpenAI-compatible endpoint (gpt-image-1.5 with ``input_fidelity = "high"`` by default; the
  paper used GPT-4o-Image, whose API successor gpt-image-1 was shut down on 2026-10-23).
* :class:`DiffusersEditor` -- a local FLUX.1-Kontext pipeline (seeded; re-edits change the seed).
* :class:`ImportEditor` -- edits made elsewhere, read from a folder (``grid_{id}.png``,
  ``{key}.png`` or ``grid_{key}.png``); cannot re-edit.
* :class:`NoEditor` -- the render itself (dry runs; recorded as unedited).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from photo3d.data.clients import Endpoint, OpenAIClient, validate_image
from photo3d.data.layout import GRID
from photo3d.data.stage import StageContext, StageFailure
from photo3d.io import encode_png, open_pil

RETRY_HINT = (" Previous attempt changed the object's shape or position: keep every cell's silhouette, "
              "size and position pixel-aligned with the input.")


class OpenAIEditor:
    """Edits through an OpenAI-compatible ``/images/edits`` endpoint."""

    can_reedit = True

    def __init__(self, cfg, api) -> None:
        self.cfg = cfg
        self.client = OpenAIClient(Endpoint.from_config(api, cfg.base_url, cfg.api_key_env))

    def describe(self) -> dict[str, Any]:
        from photo3d.data.models import _version

        from photo3d.data.api_models import edit_parameters

        sent = edit_parameters(self.cfg.model, self.cfg.size, self.cfg.quality, self.cfg.input_fidelity)
        return {"backend": "openai-images-edit", "model": self.cfg.model, "size": self.cfg.size,
                "quality": self.cfg.quality, "input_fidelity": sent.get("input_fidelity"),
                "openai": _version("openai")}

    def load(self) -> None:
        pass

    def edit(self, ctx: StageContext, grid_png: bytes, prompt: str, attempt: int) -> bytes:
        cfg, client = self.cfg, self.client
        if attempt:
            prompt = prompt + RETRY_HINT

        def call():
            png = client.edit_image(cfg.model, grid_png, prompt, cfg.size, cfg.quality, seed=ctx.seed + attempt,
                                    input_fidelity=cfg.input_fidelity)
            return {"model": cfg.model, "cost_usd": client.endpoint.price(cfg.model), "attempt": attempt}, png

        return ctx.paid_call(f"edit_{attempt}", call, ext=".png")[1]


class DiffusersEditor:
    """Edits with a local diffusers instruction-editing pipeline (FLUX.1-Kontext)."""

    can_reedit = True

    def __init__(self, cfg) -> None:
        from photo3d.data.models import KontextEditor

        self.cfg = cfg
        model = cfg.model if "/" in cfg.model else "black-forest-labs/FLUX.1-Kontext-dev"
        self.local = KontextEditor(model, cfg.steps, cfg.guidance, cfg.device, cfg.offload)

    def describe(self) -> dict[str, Any]:
        return self.local.describe()

    def load(self) -> None:
        self.local.load()

    def edit(self, ctx: StageContext, grid_png: bytes, prompt: str, attempt: int) -> bytes:
        def call():
            out = self.local(open_pil(grid_png, "RGB"), prompt, ctx.seed + attempt)
            return {"model": self.local.model_id, "cost_usd": 0.0, "seed": ctx.seed + attempt}, encode_png(np.asarray(out))

        return ctx.paid_call(f"edit_{attempt}", call, ext=".png")[1]


class ImportEditor:
    """Edits made elsewhere (e.g. in a web UI or a batch API), imported from a folder."""

    can_reedit = False

    def __init__(self, cfg) -> None:
        if not cfg.import_dir:
            raise ValueError("edit.import_dir: the 'import' editor needs a folder of edited grids")
        self.folder = Path(cfg.import_dir)

    def describe(self) -> dict[str, Any]:
        return {"backend": "import", "model": "edits imported from a folder"}

    def load(self) -> None:
        pass

    def candidates(self, ctx: StageContext) -> list[Path]:
        s = ctx.sample
        return [self.folder / GRID.format(id=s.index), self.folder / f"{s.key}.png", self.folder / GRID.format(id=s.key)]

    def edit(self, ctx: StageContext, grid_png: bytes, prompt: str, attempt: int) -> bytes:
        for path in self.candidates(ctx):
            if path.is_file():
                def call(path=path):
                    return {"model": "import", "cost_usd": 0.0, "file": path.name}, validate_image(path.read_bytes())

                return ctx.paid_call("edit_0", call, ext=".png")[1]
        raise StageFailure("edit_missing", f"no imported edit for id {ctx.sample.index} / key {ctx.sample.key} "
                           f"in {self.folder} (expected grid_{ctx.sample.index}.png or {ctx.sample.key}.png)")


class NoEditor:
    """Pass-through (the render is the 'edit'); for dry runs of the layout."""

    can_reedit = False

    def describe(self) -> dict[str, Any]:
        return {"backend": "none", "model": "unedited render"}

    def load(self) -> None:
        pass

    def edit(self, ctx: StageContext, grid_png: bytes, prompt: str, attempt: int) -> bytes:
        return grid_png


def make_editor(cfg, api):
    """The editor named by ``cfg.backend``."""
    if cfg.backend == "openai":
        return OpenAIEditor(cfg, api)
    if cfg.backend == "kontext":
        return DiffusersEditor(cfg)
    if cfg.backend == "import":
        return ImportEditor(cfg)
    if cfg.backend == "none":
        return NoEditor()
    raise ValueError(f"edit.backend must be 'openai', 'kontext', 'import' or 'none', got {cfg.backend!r}")
