"""Local (non-API) model backends of the builder, each imported lazily at ``load()``.

They are written against the public APIs of their packages; without weights they are exercised
only by opt-in slow tests, except :class:`TrellisLifter`, which also runs (and is tested) with
tiny random weights (``model = "tiny"``):

* :class:`TransformersRewriter` -- a chat LLM through ``transformers`` (the paper: LLaMA-3-8B).
* :class:`FluxGenerator` -- ``diffusers.FluxPipeline`` (the paper: FLUX.1-dev).
* :class:`KontextEditor` -- ``diffusers.FluxKontextPipeline`` (an open alternative editor).
* :class:`TrellisLifter` -- TRELLIS-image-large (the paper's image-to-3D) in plain PyTorch, :mod:`photo3d.trellis`.
* :class:`Hunyuan3DLifter` -- ``hy3dgen.shapegen.Hunyuan3DDiTFlowMatchingPipeline``.
* :class:`CardLifter` -- an offline stand-in (NOT an image-to-3D model): a thin card textured
  with the image on both faces, so the prompt path can be run and tested end to end.

Each lifter writes an asset file and returns ``(path, frame)`` where ``frame`` is ``"world"`` (a
mesh already in the TRELLIS frame: render without re-normalising), ``"y-up"`` (a mesh, normalised
on load) or ``"gaussians"`` (a 3DGS ``.ply`` in the TRELLIS frame, with ``slat.npz`` beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photo3d._optional import require


def _device(name: str):
    from photo3d.device import resolve_device

    return resolve_device(name)


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - not installed / no metadata
        return None


class TransformersRewriter:
    """Chat-template generation with a local causal LM (greedy, deterministic)."""

    def __init__(self, model: str, max_tokens: int = 120, device: str | None = None) -> None:
        self.model_id, self.max_tokens, self.device = model, max_tokens, device
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "transformers", "model": self.model_id, "transformers": _version("transformers")}

    def load(self) -> None:
        if self._pipe is None:
            transformers = require("transformers", "the local prompt rewriter")
            self._pipe = transformers.pipeline("text-generation", model=self.model_id, device_map=self.device or "auto")

    def __call__(self, messages: list[dict[str, str]], seed: int = 0) -> str:
        self.load()
        out = self._pipe(messages, max_new_tokens=self.max_tokens, do_sample=False)
        return out[0]["generated_text"][-1]["content"].strip()


class FluxGenerator:
    """Text-to-image with ``diffusers.FluxPipeline`` (bf16 on ``device``)."""

    def __init__(self, model: str, size: int = 1024, steps: int = 28, guidance: float = 3.5,
                 device: str = "auto") -> None:
        self.model_id, self.size, self.steps, self.guidance, self.device = model, size, steps, guidance, device
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "diffusers-flux", "model": self.model_id, "diffusers": _version("diffusers"),
                "steps": self.steps, "guidance": self.guidance, "size": self.size}

    def load(self) -> None:
        if self._pipe is None:
            diffusers = require("diffusers", "FLUX text-to-image")
            torch = require("torch")
            self._pipe = diffusers.FluxPipeline.from_pretrained(self.model_id, torch_dtype=torch.bfloat16).to(_device(self.device))

    def __call__(self, prompt: str, seed: int) -> Image.Image:
        self.load()
        torch = require("torch")
        gen = torch.Generator(_device(self.device)).manual_seed(seed)
        return self._pipe(prompt, height=self.size, width=self.size, num_inference_steps=self.steps,
                          guidance_scale=self.guidance, generator=gen).images[0]


class KontextEditor:
    """Instruction editing of the whole grid with ``diffusers.FluxKontextPipeline``."""

    def __init__(self, model: str = "black-forest-labs/FLUX.1-Kontext-dev", steps: int = 28,
                 guidance: float = 2.5, device: str = "auto") -> None:
        self.model_id, self.steps, self.guidance, self.device = model, steps, guidance, device
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "diffusers-kontext", "model": self.model_id, "diffusers": _version("diffusers"),
                "steps": self.steps, "guidance": self.guidance}

    def load(self) -> None:
        if self._pipe is None:
            diffusers = require("diffusers", "FLUX.1-Kontext editing")
            torch = require("torch")
            self._pipe = diffusers.FluxKontextPipeline.from_pretrained(self.model_id,
                                                                       torch_dtype=torch.bfloat16).to(_device(self.device))

    def __call__(self, image: Image.Image, prompt: str, seed: int) -> Image.Image:
        self.load()
        torch = require("torch")
        gen = torch.Generator(_device(self.device)).manual_seed(seed)
        w, h = image.size
        return self._pipe(image=image, prompt=prompt, guidance_scale=self.guidance, num_inference_steps=self.steps,
                          height=h, width=w, generator=gen).images[0]


class TrellisLifter:
    """Image-to-3D with TRELLIS-image-large in plain PyTorch (:mod:`photo3d.trellis`), colour kept.

    Writes ``gaussians.ply`` (TRELLIS world frame) and ``slat.npz`` (the structured latent
    Photo3D's TRELLIS fine-tuning reads) and returns frame ``"gaussians"``: the grid is rendered
    from the Gaussians, so the asset keeps its colours. No mesh is extracted (that needs TRELLIS's
    mesh decoder and FlexiCubes, not implemented here).

    Args:
        model: a local TRELLIS-image-large folder, or ``"tiny"`` (random stand-in weights).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        checkpoint: Photo3D's fine-tuned stage 2 (``"photo3d"`` or its folder), optional.
    """

    def __init__(self, model: str = "microsoft/TRELLIS-image-large", device: str = "auto", checkpoint: str = "") -> None:
        self.model_id, self.device, self.checkpoint = model, device, checkpoint
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        info = {"backend": "trellis", "model": self.model_id, "implementation": "photo3d.trellis (plain PyTorch)",
                "output": "3D Gaussians + SLAT (no mesh)"}
        if self._pipe is not None:
            desc = self._pipe.description
            info.update(model=desc.get("weights"), is_paper_model=desc.get("is_paper_model"),
                        conditioner=desc.get("conditioner", {}).get("name"))
        return info

    def load(self) -> None:
        if self._pipe is None:
            from photo3d.trellis.pipeline import load_pipeline

            self._pipe = load_pipeline(self.model_id, _device(self.device), checkpoint=self.checkpoint or None)

    def __call__(self, image: Image.Image, seed: int, folder: Path) -> tuple[Path, str]:
        from photo3d.gaussians import save_ply
        from photo3d.trellis.generate import save_slat

        self.load()
        result = self._pipe.run(image, seed=seed, progress=False)
        save_slat(folder / "slat.npz", result.coords, result.slat)
        return save_ply(folder / "gaussians.ply", result.gaussians), "gaussians"


class Hunyuan3DLifter:
    """Image-to-3D geometry with Hunyuan3D-2 (``hy3dgen``); Y-up output, normalised on load."""

    def __init__(self, model: str = "tencent/Hunyuan3D-2", device: str = "auto") -> None:
        self.model_id, self.device = model, device
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "hunyuan3d", "model": self.model_id}

    def load(self) -> None:
        if self._pipe is None:
            shapegen = require("hy3dgen.shapegen", "Hunyuan3D-2 image-to-3D")
            self._pipe = shapegen.Hunyuan3DDiTFlowMatchingPipeline.from_pretrained(self.model_id)

    def __call__(self, image: Image.Image, seed: int, folder: Path) -> tuple[Path, str]:
        self.load()
        torch = require("torch")
        mesh = self._pipe(image=image, generator=torch.manual_seed(seed))[0]
        path = folder / "hunyuan_mesh.glb"
        mesh.export(path)
        return path, "y-up"


class CardLifter:
    """Offline stand-in for image-to-3D: a 0.04-thick card with the image on its front and back.

    It exists so that the prompt path runs without weights; its output is recorded as
    ``card (offline stand-in, not an image-to-3D model)`` and must never be taken for TRELLIS.
    """

    def describe(self) -> dict[str, Any]:
        return {"backend": "card", "model": "card (offline stand-in, not an image-to-3D model)"}

    def load(self) -> None:
        pass

    def __call__(self, image: Image.Image, seed: int, folder: Path) -> tuple[Path, str]:
        from photo3d.assets.mesh import Material, Mesh
        from photo3d.data.objio import write_obj

        from photo3d.io import composite, to_tensor, to_uint8

        tex = to_uint8(composite(to_tensor(image, "RGBA")))  # on white, in float
        h, w = tex.shape[:2]
        sx, sz = (0.9, 0.9 * h / w) if w >= h else (0.9 * w / h, 0.9)
        t = 0.02
        # front faces -Y (seen from yaw 180), back faces +Y; UVs map the whole image to each.
        xs, zs = (-sx / 2, sx / 2), (-sz / 2, sz / 2)
        front = [(xs[0], -t, zs[1]), (xs[1], -t, zs[1]), (xs[1], -t, zs[0]), (xs[0], -t, zs[0])]
        back = [(xs[1], t, zs[1]), (xs[0], t, zs[1]), (xs[0], t, zs[0]), (xs[1], t, zs[0])]
        uv = [(0, 0), (1, 0), (1, 1), (0, 1)]
        verts = np.array(front + back, np.float32)
        uvs = np.array(uv + [(1 - u, v) for u, v in uv], np.float32)  # the back shows the mirror image
        faces = np.array([[0, 2, 1], [0, 3, 2], [4, 6, 5], [4, 7, 6]], np.int64)
        mesh = Mesh(vertices=verts, faces=faces, uv=uvs,
                    materials=[Material(name="card", base_color_texture=tex)])
        write_obj(mesh, folder, "card")
        return folder / "card.obj", "world"
