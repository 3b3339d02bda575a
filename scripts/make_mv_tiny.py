"""Rebuild the bundled tiny Photo3D-MV sample set ``src/photo3d/examples/mv_tiny``.

Two samples made from the bundled assets (0 = YCB sugar box, 1 = Stanford bunny):

* ``grid_{id}.png``: the rig's 2x2 grid rendered with the mesh renderer at 64 px per view, then
  "edited" with a simple deterministic photo-style change (contrast, saturation, warm tint) that
  stands in for the image editor. It is not a photoreal edit; it gives L_real a target that differs
  from the plain render while keeping the structure.
* ``{id}/mesh.obj``: the asset in the world frame (TRELLIS frame), simplified by vertex clustering
  and carrying per-vertex colours sampled from its texture, so the folder stays small.
* ``prompts.txt`` (line id = prompt), ``manifest.jsonl``, ``LICENSE.txt``.

Usage: ``python scripts/make_mv_tiny.py [--out DIR] [--view 64] [--cell 0.03]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from photo3d.assets import load_asset
from photo3d.data.layout import MANIFEST, sample_files, write_prompts
from photo3d.imaging import foreground_mask
from photo3d.io import atomic_write_text, save_image, write_jsonl
from photo3d.render import render_grid

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "photo3d" / "examples"
SOURCES = [
    ("0", EXAMPLES / "ycb_004_sugar_box" / "004_sugar_box_1k.glb", "a box of domino sugar, product photo"),
    ("1", EXAMPLES / "pmndrs_bunny" / "bunny.glb", "a ceramic bunny figurine, studio photo"),
]


def edit(grid: torch.Tensor) -> torch.Tensor:
    """Deterministic stand-in edit: contrast 1.25, saturation 1.3, warm tint; white stays white."""
    fg = foreground_mask(grid[None], white_tolerance=0.02)[0].float()
    grey = grid.mean(0, keepdim=True)
    x = grey + 1.3 * (grid - grey)
    x = 0.5 + 1.25 * (x - 0.5)
    x = x * torch.tensor([1.06, 1.0, 0.9]).view(3, 1, 1)
    return (fg * x + (1 - fg) * grid).clamp(0, 1)


def vertex_colours(mesh) -> np.ndarray:
    """``[V, 3]`` colours: texture at the vertex UV (nearest texel) x factor, or vertex colours."""
    mat = mesh.materials[0]
    factor = np.asarray(mat.base_color_factor, np.float64)[:3]
    if mesh.uv is not None and mat.base_color_texture is not None:
        tex = mat.base_color_texture
        h, w = tex.shape[:2]
        x = np.clip((np.mod(mesh.uv[:, 0], 1) * w).astype(int), 0, w - 1)
        y = np.clip((np.mod(mesh.uv[:, 1], 1) * h).astype(int), 0, h - 1)
        return tex[y, x, :3] / 255.0 * factor
    if mesh.vertex_colors is not None:
        return mesh.vertex_colors[:, :3] * factor
    return np.tile(factor, (len(mesh.vertices), 1))


def cluster_simplify(v: np.ndarray, f: np.ndarray, c: np.ndarray, cell: float):
    """Vertex-clustering decimation: merge vertices per grid cell (mean position and colour)."""
    key = np.floor((v + 0.5) / cell).astype(np.int64)
    _, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    n = inv.max() + 1
    cnt = np.bincount(inv, minlength=n)[:, None]
    nv = np.zeros((n, 3))
    nc = np.zeros((n, 3))
    np.add.at(nv, inv, v)
    np.add.at(nc, inv, c)
    nf = inv[f]
    nf = nf[(nf[:, 0] != nf[:, 1]) & (nf[:, 1] != nf[:, 2]) & (nf[:, 0] != nf[:, 2])]
    nf = nf[np.sort(np.unique(np.sort(nf, axis=1), axis=0, return_index=True)[1])]  # drop duplicates
    return nv / cnt, nf, nc / cnt


def write_obj(path: Path, v: np.ndarray, f: np.ndarray, c: np.ndarray) -> None:
    lines = ["# photo3d mv_tiny: world frame (Z up), per-vertex colours (x y z r g b)"]
    lines += [f"v {a:.4f} {b:.4f} {d:.4f} {r:.3f} {g:.3f} {bl:.3f}" for (a, b, d), (r, g, bl) in zip(v, c)]
    lines += [f"f {i + 1} {j + 1} {k + 1}" for i, j, k in f]
    atomic_write_text(path, "\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(EXAMPLES / "mv_tiny"))
    ap.add_argument("--view", type=int, default=64, help="pixels per view")
    ap.add_argument("--cell", type=float, default=0.03, help="vertex clustering cell (world units)")
    args = ap.parse_args()
    out = Path(args.out)
    manifest, prompts = [], []
    for sid, src, prompt in SOURCES:
        asset = load_asset(src)
        grid = render_grid(asset, args.view)
        files = sample_files(sid)
        save_image(out / files["grid"], edit(grid))
        m = asset.mesh
        v, f, c = cluster_simplify(m.vertices.astype(np.float64), m.faces, vertex_colours(m), args.cell)
        write_obj(out / files["mesh"], v, f, c)
        prompts.append(prompt)
        manifest.append({"id": sid, "grid": files["grid"], "mesh": files["mesh"], "prompt": prompt,
                         "source": src.relative_to(EXAMPLES).as_posix(), "edit": "contrast/saturation/tint stand-in",
                         "view_resolution": args.view, "faces": len(f)})
    write_prompts(out, prompts)
    write_jsonl(out / MANIFEST, manifest)
    atomic_write_text(out / "LICENSE.txt", LICENSE)
    print(f"wrote {out} ({sum(p.stat().st_size for p in out.rglob('*') if p.is_file()) / 1e3:.0f} KB)")


LICENSE = """mv_tiny: a two-sample Photo3D-MV-layout set derived from photo3d's bundled example assets.
Rebuilt by scripts/make_mv_tiny.py.

0/ and grid_0.png: derived from the YCB Object and Model Set, object 004_sugar_box
  (B. Calli et al., "The YCB Object and Model Set", 2015), licensed CC BY 4.0
  (https://creativecommons.org/licenses/by/4.0/). Changes: rendered at 64 px per view, colours
  edited (contrast/saturation/tint), mesh simplified by vertex clustering with per-vertex colours
  sampled from the texture. See ../ycb_004_sugar_box/LICENSE.txt.

1/ and grid_1.png: derived from the Stanford bunny as shipped by @pmndrs/assets 1.7.0, CC0 1.0.
  Same changes. See ../pmndrs_bunny/LICENSE.txt.

The grids are NOT photoreal edits; they are deterministic stand-ins for tests and demos.
"""


if __name__ == "__main__":
    main()
