"""Local (non-API) model backends of the builder, each imported lazily at ``load()``.

Weights are local files only, through photo3d's one weights policy
(:func:`photo3d.encoders.registry.from_pretrained`: ``local_files_only`` unless
``PHOTO3D_ALLOW_DOWNLOAD=1``, one variable per known model: ``PHOTO3D_LLM``, ``PHOTO3D_FLUX``,
``PHOTO3D_KONTEXT``, ``PHOTO3D_HUNYUAN3D``), and devices through :func:`photo3d.device.resolve_device`.
Tested against the real libraries with tiny random models saved to a folder and loaded through
the same code (transformers, diffusers, TRELLIS) or with stubs of the published package API (Hunyuan3D-2):

* :class:`TransformersRewriter` -- a chat LLM through ``transformers.pipeline`` (the paper:
  LLaMA-3-8B). The model is placed with ``device=`` (no ``device_map``, so no ``accelerate``).
* :class:`FluxGenerator` -- ``diffusers.FluxPipeline`` (the paper: FLUX.1-dev), optional CPU offload.
* :class:`KontextEditor` -- ``diffusers.FluxKontextPipeline`` (diffusers >= 0.34), optional CPU offload.
* :class:`TrellisLifter` -- TRELLIS-image-large (the paper's image-to-3D) in plain PyTorch, :mod:`photo3d.trellis`
  (also runs with tiny random weights, ``model = "tiny"``).
* :class:`Hunyuan3DLifter` -- Hunyuan3D-2: ``hy3dgen.shapegen`` geometry, then ``hy3dgen.texgen``
  (Hunyuan3D-Paint) texture, so the rendered grid keeps the object's appearance.
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

from photo3d._optional import install_hint, require
from photo3d._optional import installed_version as _version
from photo3d.errors import InputError, MissingDependencyError

KONTEXT_MIN_DIFFUSERS = "0.34"  # the release that added FluxKontextPipeline
OFFLOAD_MODES = ("none", "model", "sequential")


def _device(name: str):
    from photo3d.device import resolve_device

    return resolve_device(name)


def _dtype(device):
    """bf16 on CUDA (fp16 without bf16 support), fp32 on CPU: the encoders' policy."""
    from photo3d.encoders.base import default_dtype

    return default_dtype(device, None)


def _load_diffusers_pipeline(cls_name: str, model: str, what: str, device: str, offload: str):
    """A diffusers pipeline from local weights, placed on ``device`` or CPU-offloaded onto it.

    ``offload="model"`` keeps each sub-model (text encoders, transformer, VAE) on the CPU until it
    runs (``enable_model_cpu_offload``: FLUX.1-dev in bf16 then peaks near the transformer's
    ~24 GB instead of ~33 GB for the whole pipeline); ``"sequential"`` moves layer by layer
    (least memory, slowest). Both need CUDA and ``accelerate``.
    """
    from photo3d.encoders.registry import from_pretrained

    if offload not in OFFLOAD_MODES:
        raise InputError(f"offload must be one of {', '.join(OFFLOAD_MODES)}, got {offload!r}")
    diffusers = require("diffusers", what)
    dev = _device(device)
    if offload != "none" and dev.type != "cuda":
        raise InputError(f"{what}: offload = {offload!r} moves sub-models onto a CUDA device, but the device is "
                         f"{dev}; use offload = 'none' on the CPU")
    pipe = from_pretrained(getattr(diffusers, cls_name), model, what, torch_dtype=_dtype(dev))
    if offload == "none":
        return pipe.to(dev)
    require("accelerate", f"{what} with CPU offload")
    if offload == "model":
        pipe.enable_model_cpu_offload(device=dev)
    else:
        pipe.enable_sequential_cpu_offload(device=dev)
    return pipe


class TransformersRewriter:
    """Chat-template generation with a local causal LM (greedy, deterministic).

    Args:
        model: a local folder or hub id (``PHOTO3D_LLM`` overrides the paper's LLaMA-3-8B id).
        max_tokens: longest answer.
        device: ``"auto"``, ``"cpu"``, ``"cuda[:i]"``.
    """

    def __init__(self, model: str, max_tokens: int = 120, device: str = "auto") -> None:
        self.model_id, self.max_tokens, self.device = model, max_tokens, device
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "transformers", "model": self.model_id, "transformers": _version("transformers")}

    def load(self) -> None:
        if self._pipe is None:
            from photo3d.encoders.registry import from_pretrained

            transformers = require("transformers", "the local prompt rewriter")
            dev = _device(self.device)
            tokenizer = from_pretrained(transformers.AutoTokenizer, self.model_id, "rewriter LLM")
            model = from_pretrained(transformers.AutoModelForCausalLM, self.model_id, "rewriter LLM",
                                    dtype=_dtype(dev))
            self._pipe = transformers.pipeline("text-generation", model=model, tokenizer=tokenizer, device=dev)

    def __call__(self, messages: list[dict[str, str]], seed: int = 0) -> str:
        self.load()
        out = self._pipe(messages, max_new_tokens=self.max_tokens, do_sample=False)
        return out[0]["generated_text"][-1]["content"].strip()


class FluxGenerator:
    """Text-to-image with ``diffusers.FluxPipeline`` (bf16 on CUDA, fp32 on CPU).

    Args:
        model: a local folder or hub id (``PHOTO3D_FLUX`` overrides FLUX.1-dev's id).
        size, steps, guidance: generation settings.
        device: where it runs.
        offload: ``"none"``, ``"model"`` or ``"sequential"`` CPU offload (CUDA only).
    """

    def __init__(self, model: str, size: int = 1024, steps: int = 28, guidance: float = 3.5,
                 device: str = "auto", offload: str = "none") -> None:
        self.model_id, self.size, self.steps, self.guidance, self.device = model, size, steps, guidance, device
        self.offload = offload
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "diffusers-flux", "model": self.model_id, "diffusers": _version("diffusers"),
                "steps": self.steps, "guidance": self.guidance, "size": self.size, "offload": self.offload}

    def load(self) -> None:
        if self._pipe is None:
            self._pipe = _load_diffusers_pipeline("FluxPipeline", self.model_id, "FLUX text-to-image", self.device,
                                                  self.offload)

    def __call__(self, prompt: str, seed: int) -> Image.Image:
        self.load()
        torch = require("torch")
        gen = torch.Generator(_device(self.device)).manual_seed(seed)
        return self._pipe(prompt, height=self.size, width=self.size, num_inference_steps=self.steps,
                          guidance_scale=self.guidance, generator=gen).images[0]


def check_kontext_diffusers() -> None:
    """Raise one line when the installed diffusers predates ``FluxKontextPipeline`` (0.34)."""
    installed = _version("diffusers")
    if installed is None:
        require("diffusers", "FLUX.1-Kontext editing")  # raises with the install hint
    if _older(installed, KONTEXT_MIN_DIFFUSERS):
        raise MissingDependencyError(
            f"FLUX.1-Kontext editing needs diffusers >= {KONTEXT_MIN_DIFFUSERS} (installed: {installed}); "
            f"upgrade with: {install_hint('diffusers')}")


def _older(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        out = []
        for p in v.split(".")[:3]:
            digits = "".join(ch for ch in p if ch.isdigit())
            out.append(int(digits) if digits else 0)
        return tuple(out)

    return parts(version) < parts(minimum)


class KontextEditor:
    """Instruction editing of the whole grid with ``diffusers.FluxKontextPipeline`` (diffusers >= 0.34).

    Args:
        model: a local folder or hub id (``PHOTO3D_KONTEXT`` overrides FLUX.1-Kontext-dev's id).
        steps, guidance: editing settings.
        device: where it runs.
        offload: ``"none"``, ``"model"`` or ``"sequential"`` CPU offload (CUDA only).
        auto_resize: let the pipeline resize the input to the nearest of Kontext's training
            resolutions (diffusers' default; a 1024 x 1024 grid stays 1024 x 1024). ``False``
            conditions on the grid at its own size. The output has the grid's size (``max_area``
            is the grid's area; diffusers would otherwise scale every output to 1024 x 1024).
    """

    def __init__(self, model: str = "black-forest-labs/FLUX.1-Kontext-dev", steps: int = 28,
                 guidance: float = 2.5, device: str = "auto", offload: str = "none", auto_resize: bool = True) -> None:
        self.model_id, self.steps, self.guidance, self.device = model, steps, guidance, device
        self.offload, self.auto_resize = offload, auto_resize
        self._pipe = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "diffusers-kontext", "model": self.model_id, "diffusers": _version("diffusers"),
                "steps": self.steps, "guidance": self.guidance, "offload": self.offload}

    def load(self) -> None:
        if self._pipe is None:
            check_kontext_diffusers()
            self._pipe = _load_diffusers_pipeline("FluxKontextPipeline", self.model_id, "FLUX.1-Kontext editing",
                                                  self.device, self.offload)

    def __call__(self, image: Image.Image, prompt: str, seed: int) -> Image.Image:
        self.load()
        torch = require("torch")
        gen = torch.Generator(_device(self.device)).manual_seed(seed)
        w, h = image.size
        return self._pipe(image=image, prompt=prompt, guidance_scale=self.guidance, num_inference_steps=self.steps,
                          height=h, width=w, max_area=h * w, generator=gen, _auto_resize=self.auto_resize).images[0]


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
    """Image-to-3D with Hunyuan3D-2 (``hy3dgen``): geometry, then Hunyuan3D-Paint texture; Y-up GLB.

    Follows the package's published use (``examples/textured_shape_gen.py``, ``gradio_app.py``):
    ``Hunyuan3DDiTFlowMatchingPipeline.from_pretrained(path, device=..., dtype=...)`` and
    ``pipeline(image=..., generator=...)[0]`` give a ``trimesh.Trimesh``; ``FaceReducer()(mesh,
    max_facenum=...)`` thins it as the app does before painting; ``Hunyuan3DPaintPipeline
    .from_pretrained(path)`` and ``paint(mesh, image=...)`` bake a texture from six generated views.

    Args:
        model: local folder or hub id of ``tencent/Hunyuan3D-2`` (``PHOTO3D_HUNYUAN3D`` overrides).
        device: where the shape model runs (``auto``: CUDA when available); fp16 on CUDA, fp32 on CPU.
        texture: paint the mesh (default). Hunyuan3D-Paint runs on CUDA only (its config fixes
            ``"cuda"``); ``False`` keeps the grey geometry, so the grid has no appearance and the
            editor must invent all of it (recorded as ``"texture": false``).
        max_faces: faces kept before painting.
    """

    def __init__(self, model: str = "tencent/Hunyuan3D-2", device: str = "auto", texture: bool = True,
                 max_faces: int = 40_000) -> None:
        self.model_id, self.device, self.texture, self.max_faces = model, device, texture, max_faces
        self._shape = self._paint = self._reduce = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "hunyuan3d", "model": self.model_id, "texture": self.texture,
                "texture_model": "Hunyuan3D-Paint v2.0 turbo" if self.texture else None,
                "appearance": "painted" if self.texture else "none (grey geometry)"}

    def load(self) -> None:
        if self._shape is not None:
            return
        from photo3d.encoders.registry import _downloads_allowed, locate_weights, weights_source

        dev = _device(self.device)
        if self.texture and dev.type != "cuda":
            raise InputError(f"Hunyuan3D-Paint (the texture stage) runs on CUDA only, but image_to_3d.device is {dev}; "
                             "use a CUDA device, or image_to_3d.texture = false for grey geometry")
        where = locate_weights(self.model_id)
        if not where.found and not _downloads_allowed():
            from photo3d.errors import WeightsNotFoundError

            raise WeightsNotFoundError(f"Hunyuan3D-2 weights for {self.model_id!r} not found locally; {where.how}")
        torch = require("torch")
        shapegen = require("hy3dgen.shapegen", "Hunyuan3D-2 image-to-3D")
        source = where.where or weights_source(self.model_id)
        self._shape = shapegen.Hunyuan3DDiTFlowMatchingPipeline.from_pretrained(
            source, device=str(dev), dtype=torch.float16 if dev.type == "cuda" else torch.float32)
        if self.texture:
            texgen = require("hy3dgen.texgen", "Hunyuan3D-Paint texturing")
            self._reduce = shapegen.FaceReducer()
            self._paint = texgen.Hunyuan3DPaintPipeline.from_pretrained(source)

    def __call__(self, image: Image.Image, seed: int, folder: Path) -> tuple[Path, str]:
        self.load()
        torch = require("torch")
        gen = torch.Generator("cpu").manual_seed(seed)  # as upstream: latents drawn on the CPU, same on any GPU
        mesh = self._shape(image=image, generator=gen)[0]
        if self.texture:
            mesh = self._paint(self._reduce(mesh, max_facenum=self.max_faces), image=image)
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
