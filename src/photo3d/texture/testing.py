"""Deterministic test doubles of the two texturer kinds (no model, no weights).

Both paint the same smooth colour field of the surface position (seeded by the seed and the
prompt), so their output is multi-view consistent and a correct bake reproduces it:

* :class:`ViewsDouble` (``--model testing-views``) returns views of the field at the Step1X-3D
  rig (6 orthographic views) with Step1X-3D's view weights, like the multi-view diffusion paradigm;
* :class:`GaussiansDouble` (``--model testing-gaussians``) returns small Gaussians on the surface
  carrying the field, plus a (roughness, metallic) field, like the feed-forward paradigm.

A reference image, when given, tints the field with its mean colour (so the image path is used).
Everything they produce is labelled a stand-in in the run's record.
"""

from __future__ import annotations

import math
import zlib

import torch
import torch.nn.functional as F

from photo3d.cameras import STEP1X3D_VIEW_WEIGHTS, step1x3d_rig_cameras
from photo3d.errors import InputError
from photo3d.texture.base import GaussiansResult, ViewsResult

FIELD_FREQUENCY = 1.5  # cycles per world unit (the object is 1 across): smooth, a few bands


def colour_field(points: torch.Tensor, seed: int, prompt: str = "", channels: int = 3) -> torch.Tensor:
    """``[P, channels]`` values in [0.1, 0.9]: seeded sinusoids of the position ``points [P, 3]``."""
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + zlib.crc32(prompt.encode()))
    freqs = F.normalize(torch.randn(channels, 3, generator=gen), dim=1) * (2 * math.pi * FIELD_FREQUENCY)
    phase = torch.rand(channels, generator=gen) * 2 * math.pi
    arg = points.float() @ freqs.to(points.device).T + phase.to(points.device)
    return 0.5 + 0.4 * torch.sin(arg)


def _tint(colours: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
    if image is None:
        return colours
    return 0.5 * (colours + image.float().mean((1, 2)).to(colours.device))


def _record(name: str, weights: str, seed: int, prompt: str, image, **extra) -> dict:
    return {"model": name, "standin": True, "weights": weights, "seed": seed, "prompt": prompt,
            "reference_image": image is not None,
            "note": "deterministic test double: a colour field of the surface position, no model ran", **extra}


class ViewsDouble:
    """Views of the colour field at the Step1X-3D rig (see module docs).

    Args:
        device: where to render.
        resolution: view size in pixels.
        weights: recorded only.
    """

    name = "testing-views"

    def __init__(self, device: str | torch.device = "cpu", resolution: int = 256, weights: str = "tiny") -> None:
        self.device = torch.device(device)
        self.resolution = int(resolution)
        self.weights = weights

    def texture(self, asset, prompt: str, image: torch.Tensor | None, seed: int) -> ViewsResult:
        from photo3d.render import MeshTensors, rasterize

        cams = step1x3d_rig_cameras(self.resolution)
        mesh = MeshTensors.from_mesh(asset.mesh, self.device)
        ssaa = 2
        frags = rasterize(mesh, cams, ssaa=ssaa)
        m = frags.mask
        points = (mesh.vertices[mesh.faces[frags.face_id[m]]] * frags.bary[m][..., None]).sum(1)
        n, h, w = frags.face_id.shape
        fine = torch.zeros(n, h, w, 3, device=self.device)
        fine[m] = _tint(colour_field(points, seed, prompt), image)
        cover = F.avg_pool2d(m[:, None].float(), ssaa)
        rgb = F.avg_pool2d(fine.permute(0, 3, 1, 2), ssaa) + (1.0 - cover)  # premultiplied over white
        record = _record(self.name, self.weights, seed, prompt, image, rig="step1x3d", resolution=self.resolution)
        return ViewsResult(rgb.clamp(0, 1), cams, list(STEP1X3D_VIEW_WEIGHTS), record)


class GaussiansDouble:
    """Small isotropic Gaussians on the surface carrying the colour field (see module docs).

    Args:
        device: where the Gaussians live.
        density: the surface is sampled at the texels of a ``density``² atlas.
        weights: recorded only.
    """

    name = "testing-gaussians"

    def __init__(self, device: str | torch.device = "cpu", density: int = 128, weights: str = "tiny") -> None:
        self.device = torch.device(device)
        self.density = int(density)
        self.weights = weights

    def texture(self, asset, prompt: str, image: torch.Tensor | None, seed: int) -> GaussiansResult:
        from photo3d.assets import single_atlas
        from photo3d.bake import texel_surface
        from photo3d.gaussians import Gaussians

        surf = texel_surface(single_atlas(asset, self.density), self.density, self.device)
        points = surf.points
        tri = torch.as_tensor(asset.mesh.vertices[asset.mesh.faces], dtype=torch.float64)
        area = float(torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]).norm(dim=1).sum() / 2)
        spacing = math.sqrt(area / max(len(points), 1))
        colours = _tint(colour_field(points, seed, prompt), image)
        gaussians = Gaussians.from_points(points, colours, scale=0.45 * spacing, opacity=0.95)
        materials = colour_field(points, seed + 1, prompt, channels=2)  # (roughness, metallic)
        record = _record(self.name, self.weights, seed, prompt, image, gaussians=len(points))
        return GaussiansResult(gaussians, materials, record)


def _check(weights: str, options: dict, allowed: set[str], name: str) -> None:
    if weights != "tiny":
        raise InputError(f"the {name} test double has no weights; use --weights tiny")
    unknown = set(options) - allowed
    if unknown:
        raise InputError(f"unknown option(s) for {name}: {', '.join(sorted(unknown))}; "
                         f"it takes {', '.join(sorted(allowed)) or 'none'}")


def build_views_double(weights: str = "tiny", device: str | torch.device = "cpu", **options) -> ViewsDouble:
    """Factory of ``testing-views`` (options: ``resolution``)."""
    _check(weights, options, {"resolution"}, "testing-views")
    return ViewsDouble(device, weights=weights, **options)


def build_gaussians_double(weights: str = "tiny", device: str | torch.device = "cpu", **options) -> GaussiansDouble:
    """Factory of ``testing-gaussians`` (options: ``density``)."""
    _check(weights, options, {"density"}, "testing-gaussians")
    return GaussiansDouble(device, weights=weights, **options)
