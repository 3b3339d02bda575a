"""Which texels the reference views see: rasterised UV coverage splatted into texture space.

Each foreground pixel of every reference view marks the texel its UV samples (per material).
Views are usually coarser than the texture (512 px views of a 1024² texture), so neighbouring
pixels sample texels several texels apart; the splat is closed over those gaps and dilated by a
small margin (bilinear taps, seams) before it is used to keep unseen texels at their original
values.
"""

from __future__ import annotations

import math

import torch

from photo3d.imaging.morphology import closing, dilate


def texel_visibility(
    uv: torch.Tensor,
    face_material: torch.Tensor,
    texture_sizes: dict[int, tuple[int, int]],
    dilation: int = 2,
) -> dict[int, torch.Tensor]:
    """Per-material ``[H, W]`` bool masks of the texels seen by any view.

    Pixel samples land ``s`` texels apart where the view undersamples the texture; a morphological
    closing of radius ``ceil(s / 2)`` fills the holes between them without growing the seen region,
    then ``dilation`` texels are added on top (bilinear taps, seams).

    Args:
        uv: ``[N, 2, h, w]`` per-pixel texture coordinates (u right, v down, in [0, 1]).
        face_material: ``[N, h, w]`` int64 material of the visible face, -1 on background.
        texture_sizes: material index -> ``(H, W)`` of its texture; materials not listed are
            ignored.
        dilation: extra texels of dilation after the closing.

    Returns:
        material index -> ``[H, W]`` bool mask on ``uv``'s device.
    """
    u = uv[:, 0]
    v = uv[:, 1]
    masks: dict[int, torch.Tensor] = {}
    for m, (th, tw) in texture_sizes.items():
        sel = face_material == m
        flat = torch.zeros(th * tw, dtype=torch.float32, device=uv.device)
        if sel.any():
            # wrap like a repeating sampler would; glTF UVs outside [0, 1] tile
            x = (torch.remainder(u[sel], 1.0) * tw).long().clamp(0, tw - 1)
            y = (torch.remainder(v[sel], 1.0) * th).long().clamp(0, th - 1)
            flat[y * tw + x] = 1.0
        mask = flat.view(1, 1, th, tw)
        close = math.ceil(sample_spacing(u, v, sel, (th, tw)) / 2.0)
        mask = dilate(closing(mask, close), dilation)
        masks[m] = mask[0, 0] > 0.5
    return masks


def sample_spacing(u: torch.Tensor, v: torch.Tensor, sel: torch.Tensor, texture_hw: tuple[int, int],
                   quantile: float = 0.9, cap: float = 16.0) -> float:
    """Typical distance in texels between the texture samples of neighbouring pixels.

    Args:
        u, v: ``[N, h, w]`` texture coordinates.
        sel: ``[N, h, w]`` bool, pixels that belong to the material.
        texture_hw: ``(H, W)`` of the texture.
        quantile: which quantile of the neighbour distances to report (holes come from the
            sparse end).
        cap: upper bound; jumps across UV seams are far larger and must not blow the closing up.

    Returns:
        spacing in texels (0 when there are no neighbouring pixel pairs).
    """
    th, tw = texture_hw
    dists = []
    for dim in (1, 2):
        a = sel.narrow(dim, 0, sel.shape[dim] - 1) & sel.narrow(dim, 1, sel.shape[dim] - 1)
        du = (u.narrow(dim, 1, u.shape[dim] - 1) - u.narrow(dim, 0, u.shape[dim] - 1)).abs() * tw
        dv = (v.narrow(dim, 1, v.shape[dim] - 1) - v.narrow(dim, 0, v.shape[dim] - 1)).abs() * th
        d = torch.maximum(du, dv)[a]
        dists.append(d[d < cap])
    d = torch.cat(dists)
    if d.numel() == 0:
        return 0.0
    return float(torch.quantile(d.float()[:1_000_000], quantile))
