"""Image -> 3D Gaussians with TRELLIS-image-large in plain PyTorch.

Stages (TRELLIS ``TrellisImageTo3DPipeline.run``, ``formats=["gaussian"]``)::

    image -> 518^2 object crop -> DINOv2 tokens (cond; neg_cond = zeros)
          -> structure flow: noise [1, 8, 16^3] --Euler, guidance--> z_s -> structure decoder -> occupied voxels of 64^3
          -> SLAT flow: noise [N, 8] on those voxels --Euler, guidance--> slat * std + mean
          -> Gaussian decoder -> 32 Gaussians per voxel (TRELLIS world frame, Z up)

Random draws come from one CPU generator seeded with ``seed`` (structure noise, then SLAT noise),
so a seed gives the same asset on every device up to floating-point differences.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor, nn

from photo3d.gaussians.model import Gaussians
from photo3d.trellis.conditioning import ImageConditioner, load_conditioner, prepare_image
from photo3d.io import read_json
from photo3d.trellis.presets import NETWORK_KEYS
from photo3d.trellis.sampler import SamplerParams, guided_velocity, sample_flow
from photo3d.trellis.sparse import SparseTensor
from photo3d.trellis.weights import (
    load_network,
    load_photo3d_stage2,
    network_config,
    pipeline_info,
    read_pipeline,
    resolve_photo3d_checkpoint,
)


@dataclass
class GenerationResult:
    """What :meth:`TrellisPipeline.run` produced.

    Attributes:
        gaussians: the asset (raw decoder colours; see :func:`~photo3d.trellis.gs_decoder.clamp_colors`).
        coords: ``[N, 3]`` occupied voxels of the 64^3 grid.
        slat: ``[N, 8]`` de-normalised structured latent on those voxels.
        condition_image: the 518^2 image the model was conditioned on.
        matting: how the object's alpha was obtained.
    """

    gaussians: Gaussians
    coords: Tensor
    slat: Tensor
    condition_image: Image.Image
    matting: str
    info: dict = field(default_factory=dict)


class TrellisPipeline:
    """The four TRELLIS networks, the image conditioner and the sampler settings.

    Args:
        models: ``{"sparse_structure_flow_model", "sparse_structure_decoder", "slat_flow_model",
            "slat_decoder_gs"}`` -> networks (on one device).
        conditioner: the DINOv2 image conditioner.
        structure_sampler, slat_sampler: sampler settings of the two stages.
        normalization: ``{"mean": [8], "std": [8]}`` of the SLAT.
        description: what was loaded (recorded with outputs).
    """

    def __init__(self, models: dict[str, nn.Module], conditioner: ImageConditioner, structure_sampler: SamplerParams,
                 slat_sampler: SamplerParams, normalization: dict, description: dict | None = None) -> None:
        missing = [k for k in NETWORK_KEYS if k not in models]
        if missing:
            raise ValueError(f"TrellisPipeline needs the networks {missing}")
        self.models, self.conditioner = models, conditioner
        self.structure_sampler, self.slat_sampler = structure_sampler, slat_sampler
        self.device = next(models["slat_flow_model"].parameters()).device
        self.mean = torch.tensor(normalization["mean"], dtype=torch.float32, device=self.device)[None]
        self.std = torch.tensor(normalization["std"], dtype=torch.float32, device=self.device)[None]
        self.description = description or {}

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, device: str | torch.device = "cpu",
                    torso_dtype: torch.dtype | None = None, checkpoint: str | None = None,
                    conditioner: str | None = None) -> TrellisPipeline:
        """Load a TRELLIS-image-large folder (see :mod:`photo3d.trellis.weights`).

        Args:
            folder: the folder with ``pipeline.json``.
            device: where to run.
            torso_dtype: fp32 / bf16 / fp16 for the networks' blocks (default: fp32 on CPU,
                bf16 on CUDA when supported, else fp16).
            checkpoint: Photo3D's fine-tuned stage 2: ``"photo3d"`` or a folder.
            conditioner: override ``image_cond_model`` (a local DINOv2-with-registers folder).
        """
        from photo3d.encoders.base import default_dtype

        folder = Path(folder)
        dtype = torso_dtype or default_dtype(device, None)
        args = read_pipeline(folder)
        models = {k: load_network(stem, dtype, device) for k, stem in args["models"].items()}
        info = pipeline_info(folder)
        desc = {"weights": str(folder), "note": info["note"], "torso_dtype": str(dtype).replace("torch.", ""),
                "networks": {k: v.name for k, v in args["models"].items()}}
        if checkpoint:
            ck = resolve_photo3d_checkpoint(checkpoint)
            stem = args["models"]["slat_flow_model"]
            base_cfg = network_config(read_json(stem.with_name(stem.name + ".json"), "TRELLIS config",
                                                "re-download the weights"))
            models["slat_flow_model"], notes = load_photo3d_stage2(ck, base_cfg, models["slat_decoder_gs"], dtype, device)
            desc["photo3d_checkpoint"] = notes
        cond = load_conditioner(conditioner or args.get("image_cond_model", "dinov2_vitl14_reg"), folder, device)
        desc["conditioner"] = cond.describe()
        desc["is_paper_model"] = not (cond.is_standin or info["stand_in"])
        return cls(models, cond, SamplerParams.from_dict(args["sparse_structure_sampler"]["params"]),
                   SamplerParams.from_dict(args["slat_sampler"]["params"]), args["slat_normalization"], desc)

    @torch.no_grad()
    def condition(self, images: Tensor) -> Tensor:
        """``[B, 3, 518, 518]`` in [0, 1] -> condition tokens ``[B, T, C]`` (fp32)."""
        return self.conditioner(images.to(self.device))

    @torch.no_grad()
    def sample_structure(self, cond: Tensor, generator: torch.Generator, params: SamplerParams | None = None,
                         progress: bool = True) -> Tensor:
        """Occupied voxels ``[N, 3]`` (int32, one sample) of the 64^3 grid."""
        params = params or self.structure_sampler
        flow, decoder = self.models["sparse_structure_flow_model"], self.models["sparse_structure_decoder"]
        r = flow.resolution
        noise = torch.randn(1, flow.in_channels, r, r, r, generator=generator).to(self.device)
        velocity = guided_velocity(flow, cond, torch.zeros_like(cond), params.cfg_strength, params.cfg_interval)
        z = sample_flow(velocity, noise, params.steps, params.rescale_t, "structure" if progress else None)
        coords = decoder.occupied(z)[:, 1:]
        if len(coords) == 0:
            raise RuntimeError("the structure decoder found no occupied voxel; try another seed")
        return coords

    @torch.no_grad()
    def sample_slat(self, cond: Tensor, coords: Tensor, generator: torch.Generator,
                    params: SamplerParams | None = None, progress: bool = True) -> Tensor:
        """De-normalised SLAT ``[N, 8]`` on ``coords [N, 3]``."""
        params = params or self.slat_sampler
        flow = self.models["slat_flow_model"]
        noise = torch.randn(len(coords), flow.in_channels, generator=generator).to(self.device)
        x = SparseTensor.from_batches([coords.to(self.device)], [noise])

        def model(feats: Tensor, t: Tensor, c: Tensor) -> Tensor:
            return flow(x.replace(feats), t, c).feats

        velocity = guided_velocity(model, cond, torch.zeros_like(cond), params.cfg_strength, params.cfg_interval)
        slat = sample_flow(velocity, noise, params.steps, params.rescale_t, "SLAT" if progress else None)
        return slat * self.std + self.mean

    def decode(self, slat: Tensor, coords: Tensor) -> Gaussians:
        """De-normalised SLAT on ``coords`` -> Gaussians (differentiable)."""
        x = SparseTensor.from_batches([coords.to(slat.device)], [slat])
        return self.models["slat_decoder_gs"](x)[0]

    @torch.no_grad()
    def run(self, image: Image.Image, seed: int = 42, matting: str = "auto", progress: bool = True,
            structure_params: SamplerParams | None = None, slat_params: SamplerParams | None = None) -> GenerationResult:
        """Image (any mode; RGBA keeps its alpha) -> :class:`GenerationResult`."""
        cond_image, how = prepare_image(image, matting)
        from photo3d.io import to_tensor

        cond = self.condition(to_tensor(cond_image)[None])
        gen = torch.Generator().manual_seed(seed)
        coords = self.sample_structure(cond, gen, structure_params, progress)
        slat = self.sample_slat(cond, coords, gen, slat_params, progress)
        g = self.decode(slat, coords)
        return GenerationResult(g, coords.cpu(), slat.cpu(), cond_image, how,
                                {"voxels": len(coords), "gaussians": len(g), "seed": seed})



def load_pipeline(weights: str, device: str | torch.device = "cpu", torso_dtype: torch.dtype | None = None,
                  checkpoint: str | None = None, conditioner: str | None = None) -> TrellisPipeline:
    """:meth:`TrellisPipeline.from_folder` for a folder, or ``"tiny"``: random weights written for this call.

    Raises:
        InputError: ``weights`` is neither ``"tiny"`` nor a folder (the message says how to download).
    """
    from photo3d.errors import InputError
    from photo3d.trellis.weights import write_random_pipeline

    with contextlib.ExitStack() as stack:
        folder = weights
        if weights == "tiny":
            folder = write_random_pipeline(stack.enter_context(tempfile.TemporaryDirectory(prefix="p3d-trellis-")))
        elif not weights or not Path(weights).is_dir():
            raise InputError(f"TRELLIS weights {weights!r}: no such folder; download TRELLIS-image-large with "
                             f"`huggingface-cli download microsoft/TRELLIS-image-large --local-dir DIR` and pass DIR, "
                             "or use 'tiny' (random stand-in weights)")
        pipe = TrellisPipeline.from_folder(folder, device, torso_dtype, checkpoint, conditioner)
    if weights == "tiny":
        pipe.description["weights"] = "tiny (random weights written for this run; a stand-in, not TRELLIS)"
    return pipe
