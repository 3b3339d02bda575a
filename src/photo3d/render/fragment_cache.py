"""Everything shading needs that depends on geometry only, computed once per :class:`Fragments`.

An optimisation loop re-shades the same fragments with new textures every step. The covered
pixels, their faces, the interpolated UVs and normals, the texel taps of every texture, the
coverage / normal / UV / depth images: none of these change between steps. :func:`shading_setup`
computes them once and keeps them on the fragments object; the next :func:`~photo3d.render.shade`
call with the same inputs reuses them.

Reuse is keyed on the identity, in-place version counter and ``requires_grad`` of every input
tensor (fragments and mesh), the shading dtype, mode and supersampling factor, so modifying any
input, in place or by replacing it, rebuilds the set-up. A per-vertex attribute that needs a
gradient (e.g. vertex colours being optimised) is never cached: it is re-interpolated every call.

The coverage, depth, normal and UV images are handed out as they are, not copied, so repeated
:func:`~photo3d.render.shade` calls on the same fragments return the same tensors (as ``depth``
and ``face_id`` always shared storage with the fragments). Modifying one in place is detected
(version counter) and rebuilds the set-up on the next call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from photo3d.render.base import Fragments
from photo3d.render.mesh_tensors import MeshTensors
from photo3d.render.texture_sample import Taps, texel_taps

_ATTR = "_shading_setup"


@dataclass
class ShadingSetup:
    """Geometry-only shading data for one (fragments, mesh, dtype, mode, ssaa) combination.

    Attributes:
        pix: ``[P]`` flat indices (into ``N*H*W``) of covered pixels; view: ``[P]`` their view.
        vidx: ``[P, 3]`` vertex indices of each pixel's face; bary: ``[P, 3]`` barycentrics.
        mat: ``[P]`` material per pixel, ``None`` for single-material meshes.
        rgb_index: ``[3 * P]`` flat indices into an ``[N, 3, H, W]`` image, channel-major.
        att: interpolated per-vertex attributes that need no gradient (``uv``, ``normals``,
            ``vc``, ``pos``), each ``[P, D]``; ``dynamic`` names those to re-interpolate per call.
        unit_normals: ``[P, 3]`` normalised normals (``None`` when normals are dynamic).
        lambert: ``[P, 1]`` headlight factor for diffuse shading, ``None`` when not cacheable.
        cover, normals_img, uv_img, depth_img: output-size images (``None`` when dynamic).
    """

    key: tuple
    sources: tuple
    pix: torch.Tensor
    view: torch.Tensor
    vidx: torch.Tensor
    bary: torch.Tensor
    mat: torch.Tensor | None
    rgb_index: torch.Tensor
    att: dict[str, torch.Tensor]
    dynamic: tuple[str, ...]
    unit_normals: torch.Tensor | None
    lambert: torch.Tensor | None
    cover: torch.Tensor
    normals_img: torch.Tensor | None
    uv_img: torch.Tensor | None
    depth_img: torch.Tensor
    _taps: dict = field(default_factory=dict)
    _sel: dict = field(default_factory=dict)
    _out_versions: tuple = ()

    def __post_init__(self) -> None:
        self._out_versions = self._versions()

    def _versions(self) -> tuple:
        return tuple(None if t is None else t._version for t in
                     (self.cover, self.normals_img, self.uv_img, self.depth_img))

    def outputs_intact(self) -> bool:
        """False once a caller modified one of the handed-out images in place."""
        return self._versions() == self._out_versions

    def selection(self, material: int) -> torch.Tensor:
        """``[P_m]`` indices (into the P covered pixels) of pixels showing ``material``."""
        if material not in self._sel:
            self._sel[material] = torch.nonzero(self.mat == material).squeeze(1)
        return self._sel[material]

    def taps(self, material: int | None, height: int, width: int) -> Taps:
        """Cached :func:`texel_taps` of the (static) UVs of ``material``'s pixels (all if None).

        The first request returns unsorted taps (a one-off render does not pay for the sort);
        the second sorts them, for every later re-shading of these fragments.
        """
        key = (material, height, width)
        taps, sorted_ = self._taps.get(key, (None, False))
        if taps is None or not sorted_:
            uv = self.att["uv"] if material is None else self.att["uv"][self.selection(material)]
            sorted_ = taps is not None
            taps = texel_taps(uv, height, width, sort=sorted_)
            self._taps[key] = (taps, sorted_)
        return taps


def interpolate(sources: dict[str, torch.Tensor], vidx: torch.Tensor, bary: torch.Tensor,
                dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Barycentric interpolation of several ``[V, D]`` attributes with one gather.

    Returns:
        name -> ``[P, D]``.
    """
    if not sources:
        return {}
    names = list(sources)
    stacked = torch.cat([sources[k].to(dtype) for k in names], 1)
    interp = (stacked[vidx] * bary[..., None]).sum(1)
    return dict(zip(names, torch.split(interp, [sources[k].shape[1] for k in names], 1)))


def scatter_image(values: torch.Tensor, pix: torch.Tensor, view: torch.Tensor, n: int, h: int, w: int,
                  index: torch.Tensor | None = None) -> torch.Tensor:
    """``[D, P]`` per-pixel values -> ``[N, D, H, W]`` image, zero where not covered.

    Args:
        values: ``[D, P]`` channels-first values; pix, view: ``[P]``.
        index: precomputed :func:`image_index` for ``D`` channels (optional).
    """
    d = values.shape[0]
    if index is None:
        index = image_index(pix, view, d, h * w)
    out = torch.zeros(n * d * h * w, dtype=values.dtype, device=values.device)
    return out.index_put_((index,), values.reshape(-1)).view(n, d, h, w)


def image_index(pix: torch.Tensor, view: torch.Tensor, channels: int, hw: int) -> torch.Tensor:
    """``[channels * P]`` flat indices of covered pixels in an ``[N, channels, H, W]`` image."""
    first = pix + view * ((channels - 1) * hw)
    return (first[None, :] + torch.arange(channels, device=pix.device)[:, None] * hw).reshape(-1)


def shading_setup(mesh: MeshTensors, fragments: Fragments, mode: str, dtype: torch.dtype, ssaa: int) -> ShadingSetup:
    """The (cached) :class:`ShadingSetup` of ``fragments`` for ``mesh``.

    Args:
        mesh: the mesh the fragments were rasterised from.
        fragments: ``[N, H, W]`` visibility; the set-up is stored on this object.
        mode: resolved shading mode (``"unlit"`` or ``"diffuse"``); dtype: shading dtype.
        ssaa: supersampling factor (output images are ``H / ssaa x W / ssaa``).
    """
    grad_on = torch.is_grad_enabled()
    sources = (fragments.face_id, fragments.bary, fragments.depth, fragments.camera_centers, mesh.faces,
               mesh.face_material, mesh.uv, mesh.normals, mesh.vertices, mesh.vertex_colors,
               fragments.camera_forward)
    try:
        key = (dtype, mode, ssaa, tuple(None if t is None else (id(t), t._version, grad_on and t.requires_grad)
                                        for t in sources))
    except RuntimeError:  # inference tensors have no version counter: do not cache
        return _build(mesh, fragments, mode, dtype, ssaa, None, sources)
    cached = fragments.__dict__.get(_ATTR)
    if cached is not None and cached.key == key and cached.outputs_intact():
        return cached
    setup = _build(mesh, fragments, mode, dtype, ssaa, key, sources)
    fragments.__dict__[_ATTR] = setup
    return setup


def _build(mesh, fragments, mode, dtype, k, key, sources) -> ShadingSetup:
    needs = lambda t: t is not None and torch.is_grad_enabled() and t.requires_grad
    n, h, w = fragments.face_id.shape
    hw = h * w
    flat = fragments.face_id.reshape(-1)
    pix = torch.nonzero(flat >= 0).squeeze(1)
    fid = flat[pix]
    all_dynamic = needs(fragments.bary)
    bary = fragments.bary.reshape(-1, 3)[pix].to(dtype)
    vidx = mesh.faces[fid]
    view = torch.div(pix, hw, rounding_mode="floor")

    wanted = {"normals": mesh.normals, "uv": mesh.uv, "vc": mesh.vertex_colors,
              "pos": mesh.vertices if mode == "diffuse" else None}
    wanted = {name: t for name, t in wanted.items() if t is not None}
    dynamic = tuple(name for name, t in wanted.items() if all_dynamic or needs(t))
    with torch.no_grad():
        att = interpolate({name: t for name, t in wanted.items() if name not in dynamic}, vidx, bary, dtype)
        unit = F.normalize(att["normals"], dim=-1) if "normals" in att else None
        lambert = None
        if mode == "diffuse" and unit is not None and "pos" in att and not needs(fragments.camera_centers):
            lambert = headlight(unit, att["pos"], fragments.camera_centers, view, fragments.camera_forward)

        cover = torch.zeros(n * hw, dtype=dtype, device=pix.device).index_fill_(0, pix, 1.0).view(n, 1, h, w)
        depth = fragments.depth[:, None].to(dtype)
        nrm = None if unit is None else scatter_image(unit.T, pix, view, n, h, w)
        uvi = scatter_image(att["uv"].T, pix, view, n, h, w) if "uv" in att else None
        if k > 1:
            cover = F.avg_pool2d(cover, k)
            safe = cover.clamp_min(1e-12)
            depth = torch.where(cover > 0, F.avg_pool2d(depth, k) / safe, 0.0)
            nrm = None if nrm is None else F.normalize(F.avg_pool2d(nrm, k), dim=1)
            uvi = None if uvi is None else torch.where(cover > 0, F.avg_pool2d(uvi, k) / safe, 0.0)
    mat = mesh.face_material[fid] if mesh.num_materials > 1 else None
    return ShadingSetup(key=key, sources=sources, pix=pix, view=view, vidx=vidx, bary=bary, mat=mat,
                        rgb_index=image_index(pix, view, 3, hw), att=att, dynamic=dynamic, unit_normals=unit,
                        lambert=lambert, cover=cover, normals_img=nrm, uv_img=uvi, depth_img=depth)


def toward_camera(pos: torch.Tensor, view: torch.Tensor, camera_centers: torch.Tensor | None,
                  camera_forward: torch.Tensor | None = None) -> torch.Tensor:
    """``[P, 3]`` unit directions from surface points to their camera (the reverse viewing ray).

    Args:
        pos: ``[P, 3]`` world positions; view: ``[P]`` index of the view each point is seen in.
        camera_centers: ``[N, 3]`` camera positions (perspective views).
        camera_forward: ``[N, 3]`` viewing directions of orthographic views (all rays parallel);
            takes precedence over ``camera_centers``. Without either, light comes from +Z.
    """
    if camera_forward is not None:
        return F.normalize(-camera_forward.to(pos.dtype)[view], dim=-1)
    if camera_centers is not None:
        return F.normalize(camera_centers.to(pos.dtype)[view] - pos, dim=-1)
    return torch.tensor([0.0, 0.0, 1.0], dtype=pos.dtype, device=pos.device).expand_as(pos)


def headlight(unit_normals: torch.Tensor, pos: torch.Tensor, camera_centers: torch.Tensor | None,
              view: torch.Tensor, camera_forward: torch.Tensor | None = None) -> torch.Tensor:
    """``[P, 1]`` two-sided Lambert term ``|n . v|`` with the light at the camera (or along +Z)."""
    to_cam = toward_camera(pos, view, camera_centers, camera_forward)
    return (unit_normals * to_cam).sum(-1, keepdim=True).abs()
