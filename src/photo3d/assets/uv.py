"""``ensure_uvs``: give every material a base-colour texture, generating a UV atlas when needed.

Texture optimisation (per-asset enhancement) needs UVs and a texture per material. Meshes
without UVs (scans, CAD, the bundled bunny) get an atlas from xatlas; each material's constant
factor and any vertex colours are baked into its texture, and the factor's RGB is set to 1, so
a render (base colour x factor x vertex colour) looks the same before and after.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from photo3d._optional import require
from photo3d.assets.bake import fill_empty, rasterize_uv
from photo3d.assets.mesh import Asset, Material, Mesh
from photo3d.assets.textures import constant_texture
from photo3d.errors import InputError, MissingDependencyError


def ensure_uvs(asset: Asset, texture_size: int = 1024) -> Asset:
    """Return an asset whose mesh has UVs and whose materials all have base-colour textures.

    * No UVs: an xatlas atlas is generated (vertices split at its seams), each material gets a
      ``texture_size``\u00b2 texture baked from its factor x vertex colours, vertex colours are
      dropped (they are in the texture) and ``meta["uv_generated"] = True``.
    * UVs present: materials without a texture get a constant ``texture_size``\u00b2 texture of
      their factor's RGB; textured materials and vertex colours are kept.

    In both cases baked factors become ``(1, 1, 1, alpha)``. The input asset is not modified.

    Args:
        asset: a loaded asset.
        texture_size: side of the new textures in texels.

    Returns:
        A new :class:`Asset` (same ``to_world`` and ``source``).

    Raises:
        MissingDependencyError: xatlas is not installed and the mesh has no UVs.
    """
    if texture_size < 1:
        raise InputError(f"texture_size must be positive, got {texture_size}")
    mesh = asset.mesh
    meta = dict(asset.meta)
    if mesh.uv is None:
        new_mesh = _atlas_and_bake(asset, texture_size)
        meta["uv_generated"] = True
    else:
        materials = [m if m.has_texture else _constant(m, texture_size) for m in mesh.materials]
        new_mesh = dataclasses.replace(mesh, materials=materials)
    meta["textured"] = new_mesh.is_textured
    meta["has_uv"] = True
    return Asset(mesh=new_mesh, source=asset.source, to_world=asset.to_world.copy(), meta=meta)


def single_atlas(asset: Asset, texture_size: int = 1024) -> Asset:
    """The same geometry with one fresh xatlas atlas and one untextured material.

    For baking a new appearance (:mod:`photo3d.bake`): every face shares one UV atlas without
    overlaps, whatever UVs and materials the asset had (tiled, mirrored or per-material UVs
    cannot hold one baked texture). The old appearance is dropped; vertex normals are kept.

    Args:
        asset: a loaded asset.
        texture_size: the atlas resolution the charts are packed for (sets the padding).

    Returns:
        A new :class:`Asset` (same ``to_world`` and ``source``) with ``meta["uv_generated"]``.
    """
    mesh = asset.mesh
    vmap, faces, uv = parametrize(mesh.vertices, mesh.faces, texture_size)
    new_mesh = Mesh(vertices=mesh.vertices[vmap], faces=faces, uv=uv,
                    normals=None if mesh.normals is None else mesh.normals[vmap],
                    face_material=np.zeros(len(faces), dtype=np.int64), materials=[Material(name="baked")])
    meta = {**asset.meta, "uv_generated": True, "has_uv": True, "textured": False}
    return Asset(mesh=new_mesh, source=asset.source, to_world=asset.to_world.copy(), meta=meta)


def _constant(mat: Material, size: int) -> Material:
    factor = mat.base_color_factor.astype(np.float32).copy()
    texture = constant_texture(factor[:3], size)
    factor[:3] = 1.0
    return dataclasses.replace(mat, base_color_texture=texture, base_color_factor=factor,
                               extras={**mat.extras, "base_color_image": None})


def parametrize(vertices: np.ndarray, faces: np.ndarray, texture_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UV-unwrap a mesh with xatlas.

    Args:
        vertices: ``[V, 3]`` positions.
        faces: ``[F, 3]`` indices.
        texture_size: target atlas resolution (sets chart padding in texels).

    Returns:
        ``(vmap [V'], faces [F, 3], uv [V', 2])``: new vertex ``k`` copies old vertex
        ``vmap[k]``; faces keep their order; uv in [0, 1].
    """
    try:
        xatlas = require("xatlas", "UV generation")
    except MissingDependencyError as exc:
        raise MissingDependencyError(f"{exc}; or re-export the asset with UVs (a texture atlas) "
                                     "from your 3D tool") from exc
    atlas = xatlas.Atlas()
    atlas.add_mesh(np.ascontiguousarray(vertices, dtype=np.float32), np.ascontiguousarray(faces, dtype=np.uint32))
    pack = xatlas.PackOptions()
    pack.resolution = int(texture_size)
    pack.padding = 2  # texels between charts, so bilinear lookups stay inside their chart
    pack.bilinear = True
    atlas.generate(xatlas.ChartOptions(), pack)
    vmap, new_faces, uv = atlas[0]
    return vmap.astype(np.int64), new_faces.astype(np.int64), uv.astype(np.float32)


def _atlas_and_bake(asset: Asset, size: int) -> Mesh:
    mesh = asset.mesh
    vmap, faces, uv = parametrize(mesh.vertices, mesh.faces, size)
    colors = None if mesh.vertex_colors is None else mesh.vertex_colors[vmap]
    materials = []
    for i, mat in enumerate(mesh.materials):
        if colors is None:
            materials.append(_constant(mat, size))
            continue
        sel = faces[mesh.face_material == i]
        image, covered = rasterize_uv(uv, sel, colors[:, :3] * mat.base_color_factor[:3], size)
        image = fill_empty(image, covered)
        factor = mat.base_color_factor.astype(np.float32).copy()
        factor[:3] = 1.0
        texture = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        materials.append(dataclasses.replace(mat, base_color_texture=texture, base_color_factor=factor,
                                             extras={**mat.extras, "base_color_image": None}))
    return Mesh(
        vertices=mesh.vertices[vmap],
        faces=faces,
        uv=uv,
        vertex_colors=None,
        normals=None if mesh.normals is None else mesh.normals[vmap],
        face_material=mesh.face_material.copy(),
        materials=materials,
    )
