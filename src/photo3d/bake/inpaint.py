"""Filling the texels no view saw: smooth colours diffused over the surface, then the chart gutters.

Two kinds of texel have no baked colour:

* **Unseen surface** (occluded folds, the underside): colours are diffused over the *welded*
  mesh (vertices merged across UV seams), so a hole is filled from the surface around it in 3D,
  including the parts across a seam that sit on another chart. The seen texels give their welded
  vertices a colour (barycentric-weighted means); the other vertices take the harmonic
  interpolation of those (the Laplace equation on the mesh graph, solved by conjugate gradients);
  unseen texels then interpolate their face's vertex colours.
* **Gutters** between charts (off the surface): each takes its nearest chart (or seen) texel
  (:func:`photo3d.assets.bake.fill_empty`), so bilinear lookups and mipmaps at chart borders never
  pull in a foreign colour: the seam dilation.
"""

from __future__ import annotations

import numpy as np
import torch

from photo3d.assets.bake import fill_empty
from photo3d.assets.mesh import Asset, Mesh
from photo3d.bake.texels import TexelSurface, baking_mesh

# Pulls the colours of a mesh component no view saw towards the mean seen colour; small enough
# not to bias components that have seen vertices (a graph Laplacian's entries are ~1 per edge).
_REGULARISER = 1e-4
_CG_ITERATIONS = 2000
NEUTRAL = 0.5  # the colour of a mesh nobody saw at all


def fill_unseen(asset: Asset | Mesh, surface: TexelSurface, texture: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """Inpaint unseen chart texels over the surface and fill the gutters (see module docs).

    Args:
        asset: the asset (or mesh) whose atlas ``surface`` was built from.
        surface: :func:`~photo3d.bake.texels.texel_surface` of the atlas.
        texture: ``[C, T, T]`` texture whose ``seen`` texels are valid.
        seen: ``[T, T]`` bool (may include gutter texels, e.g. where a fit's bilinear taps reached).

    Returns:
        ``[C, T, T]`` texture (same dtype and device): seen texels unchanged, every other texel set.
    """
    mesh = baking_mesh(asset)
    c, t = texture.shape[0], surface.size
    flat = texture.detach().reshape(c, -1).T.float().cpu().numpy().copy()  # [T*T, C]
    index = surface.index.cpu().numpy()
    seen_p = seen.reshape(-1).cpu().numpy()[index]  # [P] over covered texels
    faces = mesh.faces[surface.face.reshape(-1)[index]]  # [P, 3]
    bary = surface.bary.reshape(-1, 3)[index]  # [P, 3]
    if not seen_p.all():
        vertex = vertex_colors(surface.weld[faces[seen_p]], bary[seen_p], flat[index[seen_p]], surface.num_welded)
        vertex = harmonic_fill(vertex, surface.weld[mesh.faces], surface.num_welded)
        hole = ~seen_p
        flat[index[hole]] = np.einsum("pk,pkc->pc", bary[hole], vertex[surface.weld[faces[hole]]])
    # Gutter texels a fit determined (bilinear taps reach them) keep their values too.
    image = fill_empty(flat.reshape(t, t, c), surface.covered | seen.cpu().numpy())
    return torch.as_tensor(np.ascontiguousarray(image), dtype=texture.dtype, device=texture.device).permute(2, 0, 1)


def vertex_colors(welded_faces: np.ndarray, bary: np.ndarray, colors: np.ndarray, n: int) -> np.ndarray:
    """``[n, C]`` barycentric-weighted mean colour of the texels around each welded vertex; NaN
    where no texel contributes.

    Args:
        welded_faces: ``[P, 3]`` welded vertex ids of the face under each texel.
        bary: ``[P, 3]`` the texels' barycentrics; colors: ``[P, C]``.
    """
    idx = welded_faces.reshape(-1)
    w = bary.reshape(-1)
    den = np.bincount(idx, weights=w, minlength=n)
    rep = np.repeat(colors, 3, axis=0)  # [P * 3, C], row-major like idx
    num = np.stack([np.bincount(idx, weights=w * rep[:, ch], minlength=n) for ch in range(colors.shape[1])], 1)
    out = np.full_like(num, np.nan)
    ok = den > 1e-9
    out[ok] = num[ok] / den[ok, None]
    return out


def harmonic_fill(values: np.ndarray, welded_faces: np.ndarray, n: int) -> np.ndarray:
    """Replace NaN rows of ``values [n, C]`` by the harmonic interpolation of the others over
    the graph of ``welded_faces [F, 3]`` (components with no known vertex get the known mean)."""
    from scipy import sparse
    from scipy.sparse.linalg import cg

    unknown = np.isnan(values).any(1)
    known = ~unknown
    out = values.copy()
    if not unknown.any():
        return out
    mean = values[known].mean(0) if known.any() else np.full(values.shape[1], NEUTRAL)
    if not known.any():
        out[:] = mean
        return out
    e = np.concatenate([welded_faces[:, [0, 1]], welded_faces[:, [1, 2]], welded_faces[:, [2, 0]]])
    e = e[e[:, 0] != e[:, 1]]
    adj = sparse.coo_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))
    adj = adj.tocsr()
    adj.data[:] = 1.0  # an edge shared by two faces counts once
    deg = np.asarray(adj.sum(1)).ravel()
    u = np.flatnonzero(unknown)
    a_uu = adj[u][:, u]
    a_uk = adj[u][:, np.flatnonzero(known)]
    system = sparse.diags(deg[u] + _REGULARISER) - a_uu
    precond = sparse.diags(1.0 / (deg[u] + _REGULARISER))
    rhs = a_uk @ values[known] + _REGULARISER * mean
    for ch in range(values.shape[1]):
        x, _ = cg(system, rhs[:, ch], x0=np.full(len(u), mean[ch]), M=precond, maxiter=_CG_ITERATIONS, rtol=1e-7)
        out[u, ch] = x
    return out
