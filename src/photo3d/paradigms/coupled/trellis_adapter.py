"""Adapter slot: a real TRELLIS (``trellis`` package + TRELLIS-image-large weights) as a CoupledModel.

**Untested here**: this machine has neither the ``trellis`` package (it is not on PyPI; install it
from a checkout of github.com/microsoft/TRELLIS with its CUDA extensions) nor its weights. The
code is written against TRELLIS's public pipeline attributes only:

* ``TrellisImageTo3DPipeline.from_pretrained(path)``
* ``pipeline.models["slat_flow_model"]`` (``ElasticSLatFlowModel``: ``model(x_t, 1000 t, cond)``
  on a ``trellis.modules.sparse.SparseTensor`` with ``coords [N, 4]`` = (batch, x, y, z))
* ``pipeline.models["slat_decoder_gs"]`` (``SLatGaussianDecoder``: ``decoder(slat)`` -> a list of
  TRELLIS ``Gaussian`` objects with ``get_xyz``, ``get_scaling``, ``get_rotation``,
  ``get_opacity`` and ``_features_dc``)
* ``pipeline.encode_image(images)`` (DINOv2 ViT-L/14-reg tokens, LayerNorm-ed)
* ``pipeline.slat_normalization`` (``{"mean": [8], "std": [8]}``, the standard SLAT statistics)

Training data must ship TRELLIS latents: ``{id}/slat.npz`` with un-normalised ``feats [N, 8]``
and ``coords [N, 3|4]`` on the 64^3 grid (spec §2.5); they are normalised here, exactly as the
released dataset does, and de-normalised before decoding. The released trainer conditions on
the raw (not background-removed) Flux image; this adapter conditions on one edited view, as the
paper's figure does (spec §7.6). Render with ``eps2d=0.1, antialiased=True`` (TRELLIS's filter):
:func:`photo3d.paradigms.coupled.build_coupled` sets that.
"""

from __future__ import annotations

import torch

from photo3d._optional import require
from photo3d.gaussians.model import SH_C0, Gaussians


class TrellisGenerator:
    """TRELLIS's SLAT flow DiT + Gaussian decoder behind the CoupledModel methods.

    Args:
        pipeline: a loaded ``trellis.pipelines.TrellisImageTo3DPipeline``.
        device: where the models run.
    """

    def __init__(self, pipeline, device: torch.device | str = "cuda") -> None:
        self.pipeline = pipeline
        self.flow = pipeline.models["slat_flow_model"]
        self.decoder = pipeline.models["slat_decoder_gs"]
        self.device = torch.device(device)
        norm = pipeline.slat_normalization
        self.mean = torch.tensor(norm["mean"], dtype=torch.float32, device=self.device)[None]
        self.std = torch.tensor(norm["std"], dtype=torch.float32, device=self.device)[None]
        self.description = {"name": "TRELLIS SLAT flow + GS decoder (external trellis package)",
                            "is_paper_model": True, "tested": False}
        self._cond_shape = None

    @classmethod
    def from_pretrained(cls, path: str, device: torch.device | str = "cuda") -> TrellisGenerator:
        """Load ``TrellisImageTo3DPipeline`` from a hub id or local folder (needs the weights)."""
        require("trellis", "the TRELLIS generator")
        from trellis.pipelines import TrellisImageTo3DPipeline

        pipe = TrellisImageTo3DPipeline.from_pretrained(path)
        pipe.to(torch.device(device))
        return cls(pipe, device)

    def _sparse(self, feats: torch.Tensor, coords: torch.Tensor):
        from trellis.modules.sparse import SparseTensor

        batch = torch.zeros(len(coords), 1, dtype=torch.int32, device=coords.device)
        return SparseTensor(feats=feats, coords=torch.cat([batch, coords.int()], 1))

    def latent(self, sample: dict) -> tuple[torch.Tensor, torch.Tensor]:
        slat = sample.get("slat")
        if slat is None or slat.get("coords") is None:
            raise ValueError(f"sample {sample['id']}: the TRELLIS generator needs {sample['id']}/slat.npz "
                             "with 'feats' and 'coords'")
        feats = slat["feats"].to(self.device)
        return (feats - self.mean) / self.std, slat["coords"].to(self.device)

    def condition(self, image: torch.Tensor | None):
        if image is None:  # CFG dropout: TRELLIS replaces the condition tokens by zeros
            if self._cond_shape is None:
                raise RuntimeError("the first TRELLIS condition must be a real image (zero shape unknown)")
            return torch.zeros(self._cond_shape, device=self.device)
        cond = self.pipeline.encode_image(image[None].to(self.device))
        self._cond_shape = tuple(cond.shape)
        return cond

    def velocity(self, x_t: torch.Tensor, coords: torch.Tensor, t: float, cond) -> torch.Tensor:
        t_in = torch.tensor([1000.0 * t], device=self.device)
        return self.flow(self._sparse(x_t, coords), t_in, cond).feats

    def decode(self, x0: torch.Tensor, coords: torch.Tensor) -> Gaussians:
        rep = self.decoder(self._sparse(x0 * self.std + self.mean, coords))[0]
        opac = rep.get_opacity.reshape(-1).clamp(1e-6, 1 - 1e-6)
        return Gaussians(
            means=rep.get_xyz,
            log_scales=torch.log(rep.get_scaling.clamp(min=1e-12)),
            quats=rep.get_rotation,
            opacity_logits=torch.log(opac) - torch.log1p(-opac),
            colors=(0.5 + SH_C0 * rep._features_dc.reshape(-1, 3)),
        )

