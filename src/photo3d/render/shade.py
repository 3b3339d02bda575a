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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F

from photo3d.errors import InputError
from photo3d.render.base import Fragments, RenderOutput
from photo3d.render.mesh_tensors import MeshTensors

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
    c, h, w = texture.shape
    x = uv[:, 0] * w - 0.5
    y = uv[:, 1] * h - 0.5
    x0f, y0f = torch.floor(x), torch.floor(y)
    fx, fy = (x - x0f)[:, None], (y - y0f)[:, None]
    x0 = torch.remainder(x0f.long(), w)
    y0 = torch.remainder(y0f.long(), h)
    x1 = torch.remainder(x0 + 1, w)
    y1 = torch.remainder(y0 + 1, h)
    idx = torch.stack([y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1])  # [4, P]
    taps = texture.reshape(c, h * w)[:, idx.reshape(-1)].reshape(c, 4, -1).permute(1, 2, 0)  # [4, P, C]
    top = taps[0] * (1 - fx) + taps[1] * fx
    bottom = taps[2] * (1 - fx) + taps[3] * fx
    return top * (1 - fy) + bottom * fy


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

    flat_fid = fragments.face_id.reshape(-1)
    pix = torch.nonzero(flat_fid >= 0).squeeze(1)
    fid = flat_fid[pix]
    bary = fragments.bary.reshape(-1, 3)[pix].to(dtype)
    vidx = mesh.faces[fid]  # [P, 3]
    view = torch.div(pix, h * w, rounding_mode="floor")

    # Interpolate every per-vertex attribute with one gather: [V, D] -> [P, D].
    parts = {"normals": mesh.normals}
    if mesh.uv is not None:
        parts["uv"] = mesh.uv
    if mesh.vertex_colors is not None:
        parts["vc"] = mesh.vertex_colors
    if mode == "diffuse":
        parts["pos"] = mesh.vertices
    names = list(parts)
    stacked = torch.cat([parts[k].to(dtype) for k in names], 1)
    interp = (stacked[vidx] * bary[..., None]).sum(1)
    att = dict(zip(names, torch.split(interp, [parts[k].shape[1] for k in names], 1)))

    mat = mesh.face_material[fid]
    factors = mesh.base_color_factors.to(dtype)
    color = factors[mat, :3] if factors.shape[0] > 1 else factors[0, :3].expand(len(pix), 3)
    uv = att.get("uv")
    if uv is not None:
        color = color * _texture_term(texs, uv, mat, dtype)
    if "vc" in att:
        color = color * att["vc"][:, :3]
    normals = F.normalize(att["normals"], dim=-1)
    if mode == "diffuse":
        if fragments.camera_centers is not None:
            to_cam = fragments.camera_centers.to(dtype)[view] - att["pos"]
        else:  # no camera known: light along +Z (from above)
            to_cam = torch.tensor([0.0, 0.0, 1.0], dtype=dtype, device=device).expand_as(normals)
        lambert = (normals * F.normalize(to_cam, dim=-1)).sum(-1, keepdim=True).abs()
        color = color * (AMBIENT + (1 - AMBIENT) * lambert)

    total = n * h * w
    cover = torch.zeros(total, 1, dtype=dtype, device=device)
    cover[pix] = 1.0
    rgb = torch.zeros(total, 3, dtype=dtype, device=device).index_put((pix,), color)
    to_img = lambda x: x.reshape(n, h, w, -1).permute(0, 3, 1, 2)
    rgb, cover = to_img(rgb), to_img(cover)
    nrm = to_img(torch.zeros(total, 3, dtype=dtype, device=device).index_put((pix,), normals.detach()))
    uvi = None if uv is None else to_img(torch.zeros(total, 2, dtype=dtype, device=device).index_put((pix,), uv))
    depth = fragments.depth[:, None].to(dtype)
    face_id = fragments.face_id[:, None]
    if k > 1:
        rgb, cover = F.avg_pool2d(rgb, k), F.avg_pool2d(cover, k)
        safe = cover.clamp_min(1e-12)
        depth = torch.where(cover > 0, F.avg_pool2d(depth, k) / safe, 0.0)
        nrm = F.normalize(F.avg_pool2d(nrm, k), dim=1)
        uvi = None if uvi is None else torch.where(cover > 0, F.avg_pool2d(uvi, k) / safe, 0.0)
        face_id = face_id[:, :, k // 2::k, k // 2::k]
    # rgb holds colour x coverage (premultiplied), so compositing is one blend.
    bg = _background(background, dtype, device)
    rgb = rgb + bg * (1 - cover)
    return RenderOutput(rgb=rgb, alpha=cover, depth=depth, normals=nrm, uv=uvi, face_id=face_id)


def _texture_term(texs, uv, mat, dtype) -> torch.Tensor:
    """``[P, 3]`` texture colour per pixel (1 where the pixel's material has no texture)."""
    term = torch.ones(len(uv), 3, dtype=dtype, device=uv.device)
    textured = [(m, t) for m, t in enumerate(texs) if t is not None]
    if len(texs) == 1 and textured:
        return sample_texture(textured[0][1].to(dtype), uv)[:, :3]
    for m, tex in textured:
        sel = torch.nonzero(mat == m).squeeze(1)
        if sel.numel():
            term = term.index_put((sel,), sample_texture(tex.to(dtype), uv[sel])[:, :3])
    return term


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
