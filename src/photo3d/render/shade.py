"""Shading: fragments + mesh attributes + textures -> colour. Pure PyTorch, differentiable.

Gradients flow to the textures, base-colour factors and per-vertex attributes (colours, UVs,
normals); visibility (which face covers which pixel) is fixed by the :class:`Fragments`.

Colour model (glTF base colour, unlit by default):
    ``rgb = texture(uv) x base_color_factor x vertex_colour``, composited over the background
    with alpha = coverage. Texture values are used as stored (sRGB), which is what an unlit
    viewer shows. Texture alpha and glTF alpha modes are ignored: every face is opaque.
``shading="diffuse"``
    multiplies that colour by a headlight Lambert term ``0.3 + 0.7 |n . v|`` (two-sided, light at
    the camera). ``"auto"`` picks it for meshes with neither texture nor vertex colours, whose
    unlit render would be a flat silhouette, and ``"unlit"`` otherwise.
Texture sampling
    bilinear, texel centres at ``(j + 0.5) / W`` (``align_corners=False``), wrap mode repeat
    (glTF's default sampler) for UVs outside [0, 1].
Anti-aliasing
    supersampling: fragments rasterised at ``ssaa`` times the resolution are shaded and then
    averaged over ``ssaa x ssaa`` blocks, which makes alpha fractional along silhouettes.
Re-shading
    everything that depends only on geometry (covered pixels, interpolated UVs and normals,
    texel taps, coverage/normal/UV/depth images) is computed once per fragments object and
    reused while the inputs are unchanged (:mod:`photo3d.render.fragment_cache`); textures are
    sampled with a scatter-backward sampler (:mod:`photo3d.render.texture_sample`). A loop that
    rasterises once and calls :func:`shade` every step therefore only pays for the texture
    lookup, the compositing and the texture gradient. ``alpha``, ``depth``, ``normals`` and
    ``uv`` of repeated calls on the same fragments are the same tensors: clone before modifying.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F

from photo3d.errors import InputError
from photo3d.render.base import Fragments, RenderOutput
from photo3d.render.fragment_cache import ShadingSetup, headlight, interpolate, scatter_image, shading_setup
from photo3d.render.mesh_tensors import MeshTensors
from photo3d.render.texture_sample import sample_taps, sample_texture_reference, texel_taps

Shading = Literal["auto", "unlit", "diffuse"]
AMBIENT = 0.3


def sample_texture(texture: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Bilinear texture lookup with repeat wrapping.

    Args:
        texture: ``[C, H, W]`` float texture.
        uv: ``[P, 2]`` coordinates in image convention ((0, 0) = top-left corner of the image,
            (1, 1) = bottom-right corner).

    Returns:
        ``[P, C]`` samples; differentiable w.r.t. ``texture`` and ``uv``.
    """
    if uv.requires_grad and torch.is_grad_enabled():
        return sample_texture_reference(texture, uv)
    return sample_taps(texture, texel_taps(uv, texture.shape[1], texture.shape[2])).T


def resolve_shading(mesh: MeshTensors, shading: str, textures: Sequence[torch.Tensor | None] | None = None) -> str:
    """``"auto"`` -> ``"diffuse"`` for meshes with no texture and no vertex colours, else ``"unlit"``."""
    if shading not in ("auto", "unlit", "diffuse"):
        raise InputError(f"shading must be 'auto', 'unlit' or 'diffuse', got {shading!r}")
    if shading != "auto":
        return shading
    texs = mesh.textures if textures is None else textures
    textured = mesh.uv is not None and any(t is not None for t in texs)
    return "unlit" if textured or mesh.vertex_colors is not None else "diffuse"


def shade(
    mesh: MeshTensors,
    fragments: Fragments,
    *,
    textures: Sequence[torch.Tensor | None] | torch.Tensor | None = None,
    background: Sequence[float] | torch.Tensor = (1.0, 1.0, 1.0),
    shading: Shading = "auto",
    ssaa: int | None = None,
) -> RenderOutput:
    """Colour the visible surface and composite it over the background.

    Args:
        mesh: the mesh the fragments were rasterised from.
        fragments: ``[N, H, W]`` visibility (at ``ssaa`` times the output size).
        textures: per-material ``[C, H, W]`` textures overriding ``mesh.textures`` (e.g. tensors
            being optimised); a single tensor replaces material 0's texture.
        background: RGB in [0, 1] (``[3]``, or ``[N, 3, h, w]`` at output size).
        shading: ``"auto"``, ``"unlit"`` or ``"diffuse"`` (see module docstring).
        ssaa: supersampling factor of ``fragments``; defaults to ``fragments.ssaa``.

    Returns:
        :class:`RenderOutput` at ``H / ssaa x W / ssaa``.
    """
    k = int(fragments.ssaa if ssaa is None else ssaa)
    n, h, w = fragments.face_id.shape
    if k < 1 or h % k or w % k:
        raise InputError(f"ssaa={k} does not divide the fragment size {h}x{w}")
    texs = _resolve_textures(mesh, textures)
    mode = resolve_shading(mesh, shading, texs)
    device = fragments.face_id.device
    dtype = _shading_dtype(mesh, texs)

    geo = shading_setup(mesh, fragments, mode, dtype, k)
    att = dict(geo.att)
    if geo.dynamic:
        att.update(interpolate({name: _attribute(mesh, name) for name in geo.dynamic}, geo.vidx, geo.bary, dtype))
    num_pix = len(geo.pix)

    # Colour channels-first, [3, P]: the layout of the output image.
    factors = mesh.base_color_factors.to(dtype)
    color = factors[geo.mat, :3].T if geo.mat is not None else factors[0, :3, None]
    tex = _texture_term(texs, geo, att.get("uv"), "uv" in geo.dynamic, dtype)
    if tex is not None:
        color = color * tex
    if "vc" in att:
        color = color * att["vc"][:, :3].T
    unit = geo.unit_normals if geo.unit_normals is not None else F.normalize(att["normals"], dim=-1)
    if mode == "diffuse":
        lambert = geo.lambert if geo.lambert is not None else headlight(unit, att["pos"], fragments.camera_centers,
                                                                        geo.view, fragments.camera_forward)
        color = color * (AMBIENT + (1 - AMBIENT) * lambert.T)
    color = color.expand(3, num_pix)

    cover = geo.cover
    bg = _background(background, dtype, device)
    if k == 1:
        # Coverage is 0 or 1: background everywhere, then the colour written over covered pixels.
        rgb = (bg * (1 - cover)).expand(n, 3, h, w).contiguous()
        rgb = rgb.put_(geo.rgb_index, color.reshape(-1))  # flat indices, no view: cheap backward
    else:
        # Premultiplied colour x coverage, averaged over ssaa blocks, then one blend.
        rgb = F.avg_pool2d(scatter_image(color, geo.pix, geo.view, n, h, w, geo.rgb_index), k)
        rgb = rgb + bg * (1 - cover)
    nrm = geo.normals_img
    if nrm is None:
        nrm = scatter_image(unit.detach().T, geo.pix, geo.view, n, h, w, geo.rgb_index)
        nrm = F.normalize(F.avg_pool2d(nrm, k), dim=1) if k > 1 else nrm
    uvi = geo.uv_img
    if uvi is None and "uv" in att:
        uvi = scatter_image(att["uv"].T, geo.pix, geo.view, n, h, w)
        if k > 1:
            uvi = torch.where(cover > 0, F.avg_pool2d(uvi, k) / cover.clamp_min(1e-12), 0.0)
    face_id = fragments.face_id[:, None]
    if k > 1:
        face_id = face_id[:, :, k // 2::k, k // 2::k]
    return RenderOutput(rgb=rgb, alpha=cover, depth=geo.depth_img, normals=nrm, uv=uvi, face_id=face_id)


def _attribute(mesh: MeshTensors, name: str) -> torch.Tensor:
    return {"normals": mesh.normals, "uv": mesh.uv, "vc": mesh.vertex_colors, "pos": mesh.vertices}[name]


def _texture_term(texs, geo: ShadingSetup, uv, uv_dynamic: bool, dtype) -> torch.Tensor | None:
    """``[3 or 1, P]`` texture colour per pixel (1 where a pixel's material has no texture).

    Static UVs use the cached texel taps and the scatter-backward sampler; UVs that need a
    gradient go through the plain-autograd sampler.
    """
    textured = [(m, t) for m, t in enumerate(texs) if t is not None]
    if uv is None or not textured:
        return None

    def sample(m, tex, sel):
        tex = tex.to(dtype)
        if uv_dynamic:
            return sample_texture_reference(tex, uv if sel is None else uv[sel]).T[:3]
        return sample_taps(tex, geo.taps(None if sel is None else m, tex.shape[1], tex.shape[2]))[:3]

    if geo.mat is None:
        return sample(0, textured[0][1], None)
    term = torch.ones(len(uv), 3, dtype=dtype, device=uv.device)
    for m, tex in textured:
        sel = geo.selection(m)
        if sel.numel():
            term = term.index_put((sel,), sample(m, tex, sel).T)
    return term.T


def _resolve_textures(mesh: MeshTensors, textures) -> list[torch.Tensor | None]:
    if textures is None:
        return list(mesh.textures)
    if isinstance(textures, torch.Tensor):
        textures = [textures] + list(mesh.textures[1:])
    textures = list(textures)
    if len(textures) != mesh.num_materials:
        raise InputError(f"got {len(textures)} textures for a mesh with {mesh.num_materials} materials")
    for i, tex in enumerate(textures):
        if tex is not None and (tex.ndim != 3 or tex.shape[0] not in (1, 3, 4)):
            raise InputError(f"texture {i} must be [C, H, W] with C in 1/3/4, got {tuple(tex.shape)}")
    if mesh.uv is None and any(t is not None for t in textures):
        raise InputError("textures were given but the mesh has no UV coordinates")
    return textures


def _shading_dtype(mesh: MeshTensors, texs) -> torch.dtype:
    """float64 when any input is float64 (gradient checks), else float32."""
    cands = [mesh.vertex_colors, mesh.base_color_factors, mesh.uv, *texs]
    return torch.float64 if any(t is not None and t.dtype == torch.float64 for t in cands) else torch.float32


def _background(background, dtype, device) -> torch.Tensor:
    bg = torch.as_tensor(background, dtype=dtype, device=device)
    if bg.ndim == 1:
        if bg.numel() != 3:
            raise InputError(f"background must be 3 RGB values, got {bg.numel()}")
        bg = bg.view(1, 3, 1, 1)
    return bg
