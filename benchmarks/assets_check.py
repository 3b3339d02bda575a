"""Load every asset of a data folder and print what photo3d sees: faces, materials, textures, time.

Usage:
    python benchmarks/assets_check.py [DATA_ASSETS_DIR] [--repeat N]

DATA_ASSETS_DIR defaults to ``/work/shared/data/assets`` (one sub-folder per asset); the script
skips gracefully when it is absent. Files that cannot be loaded (e.g. Draco-compressed GLBs)
are listed with the one-line error a user would see. Times are wall-clock seconds, the best of
``--repeat`` loads (the machine may be shared: re-run on a quiet one for numbers to quote).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from photo3d.assets import load_asset
from photo3d.errors import Photo3DError

SUFFIXES = {".glb", ".gltf", ".obj", ".ply", ".stl"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="/work/shared/data/assets", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="loads per file; the best time is shown")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"{args.root}: no such folder, nothing to check")
        return 0
    files = sorted(p for p in args.root.rglob("*") if p.suffix.lower() in SUFFIXES)
    header = f"{'name':<66} {'fmt':>4} {'faces':>7} {'verts':>7} {'mats':>4} {'meshes':>6} {'textured':>9} {'texture':>14} {'load s':>7}"
    print(header)
    print("-" * len(header))
    failures = []
    for path in files:
        name = str(path.relative_to(args.root))
        best, asset = float("inf"), None
        try:
            for _ in range(max(args.repeat, 1)):
                start = time.perf_counter()
                asset = load_asset(path)
                best = min(best, time.perf_counter() - start)
        except Photo3DError as exc:
            failures.append((name, str(exc)))
            print(f"{name:<66} {'':>4} {'ERROR (below)':>7}")
            continue
        mesh = asset.mesh
        shapes = {m.base_color_texture.shape for m in mesh.materials if m.base_color_texture is not None}
        tex = ",".join(f"{s[0]}x{s[1]}x{s[2]}" for s in sorted(shapes)) or "-"
        print(f"{name:<66} {asset.meta['format']:>4} {mesh.num_faces:>7} {mesh.num_vertices:>7} "
              f"{len(mesh.materials):>4} {asset.meta['n_meshes']:>6} {mesh.is_textured!s:>9} {tex:>14} {best:>7.3f}")
        for w in asset.meta.get("warnings", []):
            print(f"    warning: {w}")
    if failures:
        print("\nerrors (as shown to users):")
        for name, msg in failures:
            print(f"  {name}: {msg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
