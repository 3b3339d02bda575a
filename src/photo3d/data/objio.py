"""Deterministic OBJ + MTL export of a :class:`~photo3d.assets.mesh.Mesh` (Photo3D-MV ``{id}/mesh.obj``).

The released Photo3D training code reads ``{id}/mesh.obj`` in the TRELLIS frame (Z up, inside
[-0.5, 0.5]^3). We write exactly the mesh's world-frame vertices, so the file is in that frame;
read it back with ``load_asset(path, up="z")``. Textured materials get ``map_Kd`` PNGs next to
the OBJ; untextured ones a ``Kd`` colour. Numbers are printed with fixed precision and
textures PNG-encoded without metadata, so identical meshes give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photo3d.io import atomic_write_bytes, encode_png


def write_obj(mesh, folder: str | Path, name: str = "mesh") -> list[Path]:
    """Write ``folder/name.obj`` (+ ``name.mtl`` and ``name_tex{i}.png``); returns the files written.

    Args:
        mesh: a :class:`~photo3d.assets.mesh.Mesh` (vertices ``[V, 3]``, faces ``[F, 3]``,
            optional ``uv`` ``[V, 2]`` in image convention, per-face material ids).
        folder: destination folder (created).
        name: base file name.
    """
    folder = Path(folder)
    written: list[Path] = []
    mtl_lines = []
    for i, mat in enumerate(mesh.materials):
        kd = np.asarray(mat.base_color_factor, dtype=np.float64)[:3]
        mtl_lines += [f"newmtl material_{i}", "Ka 0 0 0", "Ks 0 0 0", "illum 1"]
        if mat.has_texture and mesh.uv is not None:
            tex_name = f"{name}_tex{i}.png"
            written.append(atomic_write_bytes(folder / tex_name, encode_png(mat.base_color_texture)))
            mtl_lines += [f"Kd {kd[0]:.6f} {kd[1]:.6f} {kd[2]:.6f}", f"map_Kd {tex_name}"]
        else:
            mtl_lines.append(f"Kd {kd[0]:.6f} {kd[1]:.6f} {kd[2]:.6f}")
        mtl_lines.append("")
    written.append(atomic_write_bytes(folder / f"{name}.mtl", "\n".join(mtl_lines).encode("ascii")))

    out = [f"mtllib {name}.mtl"]
    v = mesh.vertices.astype(np.float64)
    if mesh.vertex_colors is not None:
        vc = mesh.vertex_colors[:, :3].astype(np.float64)
        out += [f"v {a:.6f} {b:.6f} {c:.6f} {r:.4f} {g:.4f} {bb:.4f}" for (a, b, c), (r, g, bb) in zip(v, vc)]
    else:
        out += [f"v {a:.6f} {b:.6f} {c:.6f}" for a, b, c in v]
    has_uv = mesh.uv is not None
    if has_uv:
        out += [f"vt {u:.6f} {1.0 - t:.6f}" for u, t in mesh.uv.astype(np.float64)]  # OBJ's v points up
    faces = mesh.faces + 1
    for m in np.unique(mesh.face_material):
        out.append(f"usemtl material_{int(m)}")
        sel = faces[mesh.face_material == m]
        if has_uv:
            out += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in sel]
        else:
            out += [f"f {a} {b} {c}" for a, b, c in sel]
    written.append(atomic_write_bytes(folder / f"{name}.obj", ("\n".join(out) + "\n").encode("ascii")))
    return written
