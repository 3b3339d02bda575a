"""``photo3d texture --model mvdiffusion``: six views of a mesh from the multi-view model, for the baker.

Pipeline (Step1X-3D's texture stage without its texture synchronisation): position + normal maps
of the mesh at the Step1X-3D rig (our rasteriser) -> DDPM multi-view sampling on the shifted
schedule with classifier-free guidance, conditioned on the prompt and an optional reference image
-> the six views on white with Step1X-3D's baking weights ``[1, .1, .5, .1, .05, .05]``; the
caller (:func:`photo3d.texture.texture_mesh`) bakes them onto the UV atlas.

``weights="tiny"`` is the random stand-in (64² views, labelled so in the record); any other value
is a local weights folder (:mod:`.weights`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from photo3d.cameras import STEP1X3D_RESOLUTION, STEP1X3D_VIEW_WEIGHTS, step1x3d_rig_cameras
from photo3d.paradigms.mvdiffusion.conditions import prepare_reference, render_geometry
from photo3d.paradigms.mvdiffusion.config import NEGATIVE_PROMPT
from photo3d.paradigms.mvdiffusion.model import MVDiffusionModel
from photo3d.paradigms.mvdiffusion.sampler import generate_views
from photo3d.render import MeshTensors

TINY_RESOLUTION = 64


@dataclass
class MVDiffusionTexturer:
    """Generates the Step1X-3D rig's views of a mesh (see the module docstring).

    Args:
        model: the multi-view model.
        resolution: view side (768 upstream; a multiple of 16).
        steps: DDPM steps (upstream 50).
        guidance: classifier-free guidance (upstream 3.0).
        negative_prompt: prompt of the unconditional branch.
        progress: show the sampling progress bar.
    """

    model: MVDiffusionModel
    resolution: int = STEP1X3D_RESOLUTION
    steps: int = 50
    guidance: float = 3.0
    negative_prompt: str = NEGATIVE_PROMPT
    progress: bool = True
    name: str = field(default="mvdiffusion", init=False)

    def texture(self, asset, prompt: str, image: torch.Tensor | None = None, seed: int = 0):
        """Views of ``asset`` (world frame) for ``prompt``.

        Args:
            asset: a :class:`photo3d.assets.Asset` (or mesh) in the world frame.
            prompt: text prompt.
            image: optional reference image ``[3, H, W]`` in [0, 1] on white (or ``[4, H, W]``
                with alpha); cropped to the object and centred as upstream.
            seed: seeds the noise (same result on CPU and GPU).

        Returns:
            :class:`photo3d.texture.base.ViewsResult` with 6 views on white, the orthographic
            cameras and Step1X-3D's view weights.
        """
        from photo3d.texture.base import ViewsResult

        mesh = getattr(asset, "mesh", asset)
        cams = step1x3d_rig_cameras(self.resolution)[: self.model.num_views]
        geo = render_geometry(MeshTensors.from_mesh(mesh, self.model.device), cams)
        ref = None
        if image is not None:
            alpha = image[3:4] if image.shape[0] == 4 else None
            ref = prepare_reference(image[:3].float(), self.resolution, alpha=alpha).to(self.model.device)
        views = generate_views(self.model, geo.control(), prompt, ref, steps=self.steps, guidance=self.guidance,
                               negative_prompt=self.negative_prompt, seed=seed, progress=self.progress)
        mask = geo.mask.float()
        images = (views * mask + (1 - mask)).clamp(0, 1)
        record = {"texturer": self.name, "model": self.model.description,
                  "standin": bool(self.model.description.get("standin")), "seed": seed, "steps": self.steps,
                  "guidance": self.guidance, "resolution": self.resolution, "reference_image": image is not None,
                  "sampler": "DDPM, shifted SNR", "texture_sync": False}
        return ViewsResult(images=images.cpu(), cameras=cams, view_weights=list(STEP1X3D_VIEW_WEIGHTS[: len(cams)]),
                           record=record)


def build_texturer(weights: str, device="auto", **options) -> MVDiffusionTexturer:
    """The multi-view texturer with ``weights`` ("tiny" or a local weights folder).

    Args:
        weights: ``"tiny"`` (random stand-in) or a folder laid out as :mod:`.weights` describes.
        device: where the model runs (``"auto"``: CUDA when available); float16 on CUDA as
            upstream, float32 on CPU.
        **options: ``resolution``, ``steps``, ``guidance``, ``negative_prompt``, ``progress``
            (see :class:`MVDiffusionTexturer`); ``adapter`` (file), ``layout``, ``shift_scale``
            for the model.
    """
    from photo3d.device import resolve_device

    dev = resolve_device(device)
    model_opts = {k: options.pop(k) for k in ("adapter", "layout", "shift_scale") if k in options}
    if weights == "tiny":
        from photo3d.paradigms.mvdiffusion.model import tiny_model

        model = tiny_model(model_opts.get("layout", "step1x3d"), shift_scale=model_opts.get("shift_scale", 8.0)).to(dev)
        options.setdefault("resolution", TINY_RESOLUTION)
    else:
        from photo3d.paradigms.mvdiffusion.weights import load_pretrained

        model = load_pretrained(weights, model_opts.get("adapter", ""), model_opts.get("layout", "step1x3d"),
                                device=dev, dtype=torch.float16 if dev.type == "cuda" else torch.float32,
                                shift_scale=model_opts.get("shift_scale", 8.0))
    for m in (model.unet, model.adapter):
        m.eval()
    return MVDiffusionTexturer(model, **options)
