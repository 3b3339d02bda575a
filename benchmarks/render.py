"""Mesh rendering speed: photo3d's backends side by side with pyrender and Mitsuba 3.

For every textured asset in ``--assets`` (default: the project's shared test assets) this times
one 512x512 view (the rig's front view, yaw 180):

* photo3d ``torch`` and ``gl`` (OpenGL visibility + PyTorch shading): forward, and forward +
  backward with respect to the textures (``ssaa=1``, unlit);
* photo3d "cached-visibility" forward + backward: ``shade`` only, on fragments rasterised once,
  which is what one step of a texture optimisation (``photo3d enhance``) costs; it does not
  depend on the visibility backend;
* pyrender (EGL, flat/unlit shading, forward only) when installed;
* Mitsuba 3 ``llvm_ad_rgb`` (diffuse BSDF under a constant environment, differentiable ``prb``
  integrator with max_depth 2, i.e. direct light only, 4 spp) forward and forward + backward
  w.r.t. the same texture, when installed;
* the whole 4-view grid (``photo3d render``'s work) with the ``auto`` backend at ssaa 1 and 2.

Mitsuba's forward + backward is the same differentiable work (texture gradient of a render with
fixed geometry); it has no cached-visibility equivalent. Prints a markdown table of medians with
ratios against Mitsuba and pyrender. Runs on 2 threads by default (the performance target is a
2-core CPU; ``--threads 0`` keeps torch's default). Timings are wall clock: run it on a quiet
machine. Peers::

    pip install pyrender "pyopengl>=3.1.7"     # PYOPENGL_PLATFORM=egl is set here
    pip install mitsuba                        # needs LLVM >= 16, e.g. apt-get install libllvm19
    python benchmarks/render.py [--quick]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np
import torch

from photo3d.assets import load_asset
from photo3d.cameras import rig_cameras
from photo3d.render import MeshTensors, available_backends, rasterize, render_grid, render_mesh, shade

DEFAULT_ASSETS = Path("/work/shared/data/assets")


def timeit(fn, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def photo3d_times(mesh: MeshTensors, cams, backend: str, repeats: int) -> tuple[float, float]:
    """(forward ms, forward+backward ms) for one view."""
    fwd = timeit(lambda: render_mesh(mesh, cams, backend=backend, shading="unlit"), repeats)

    texs = [None if t is None else t.clone().requires_grad_(True) for t in mesh.textures]

    def step():
        for t in texs:
            if t is not None:
                t.grad = None
        render_mesh(mesh, cams, textures=texs, backend=backend, shading="unlit").rgb.mean().backward()

    return fwd, timeit(step, repeats)


def cached_time(mesh: MeshTensors, cams, repeats: int) -> float:
    """Forward + backward of ``shade`` alone on fragments rasterised once (one optimisation step)."""
    frags = rasterize(mesh, cams, backend="auto")
    texs = [None if t is None else t.clone().requires_grad_(True) for t in mesh.textures]

    def step():
        for t in texs:
            if t is not None:
                t.grad = None
        shade(mesh, frags, textures=texs, shading="unlit").rgb.mean().backward()

    return timeit(step, repeats)


def material_parts(mesh):
    """One (vertices, faces, uv, texture uint8 or None, rgba factor) per material used."""
    parts = []
    for m, mat in enumerate(mesh.materials):
        sel = mesh.face_material == m
        if not sel.any():
            continue
        faces = mesh.faces[sel]
        used, inv = np.unique(faces, return_inverse=True)
        uv = mesh.uv[used] if mesh.uv is not None else None
        parts.append((mesh.vertices[used], inv.reshape(-1, 3), uv, mat.base_color_texture,
                      np.asarray(mat.base_color_factor, dtype=np.float32)))
    return parts


def pyrender_time(mesh, cams, repeats: int) -> float | str:
    try:
        import pyrender
        import trimesh
        from PIL import Image
    except Exception as exc:  # noqa: BLE001 - any import failure means "not installed here"
        return f"n/a ({type(exc).__name__})"
    scene = pyrender.Scene(ambient_light=[1.0, 1.0, 1.0], bg_color=[1.0, 1.0, 1.0, 1.0])
    for verts, faces, uv, tex, factor in material_parts(mesh):
        if tex is not None and uv is not None:
            visual = trimesh.visual.TextureVisuals(uv=np.c_[uv[:, 0], 1 - uv[:, 1]], image=Image.fromarray(tex))
        else:
            visual = trimesh.visual.ColorVisuals(face_colors=(factor * 255).astype(np.uint8))
        scene.add(pyrender.Mesh.from_trimesh(trimesh.Trimesh(verts, faces, visual=visual, process=False)))
    K = cams.K[0]
    cam = pyrender.IntrinsicsCamera(K[0, 0], K[1, 1], K[0, 2], K[1, 2], znear=cams.near, zfar=cams.far)
    scene.add(cam, pose=cams.c2w[0] @ np.diag([1.0, -1.0, -1.0, 1.0]))  # OpenCV -> OpenGL camera axes
    renderer = pyrender.OffscreenRenderer(cams.width, cams.height)
    try:
        return timeit(lambda: renderer.render(scene, flags=pyrender.RenderFlags.FLAT), repeats)
    finally:
        renderer.delete()


def mitsuba_times(mesh, cams, repeats: int, spp: int = 4, threads: int = 0) -> tuple[float | str, float | str]:
    if "DRJIT_LIBLLVM_PATH" not in os.environ:
        found = sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libLLVM-19*.so*") + glob.glob("/usr/lib/*/libLLVM.so.19*"))
        if found:
            os.environ["DRJIT_LIBLLVM_PATH"] = found[0]
    try:
        import drjit as dr
        import mitsuba as mi

        mi.set_variant("llvm_ad_rgb")
    except Exception as exc:  # noqa: BLE001
        return f"n/a ({type(exc).__name__})", "n/a"
    if threads:
        dr.set_thread_count(threads)  # same core budget as torch
    import trimesh
    from PIL import Image

    tmp = Path(tempfile.mkdtemp(prefix="p3d_mitsuba_"))
    shapes = {}
    for i, (verts, faces, uv, tex, factor) in enumerate(material_parts(mesh)):
        ply = tmp / f"part{i}.ply"
        tm = trimesh.Trimesh(verts, faces, process=False)
        if uv is not None:
            # Mitsuba's PLY texcoords put v = 0 at the bottom of the bitmap.
            tm.visual = trimesh.visual.TextureVisuals(uv=np.c_[uv[:, 0], 1 - uv[:, 1]])
        tm.export(ply)
        if tex is not None and uv is not None:
            png = tmp / f"tex{i}.png"
            Image.fromarray(tex[..., :3]).save(png)
            refl = {"type": "bitmap", "filename": str(png), "format": "variant"}  # float: differentiable
        else:
            refl = {"type": "rgb", "value": factor[:3].tolist()}
        shapes[f"part{i}"] = {"type": "ply", "filename": str(ply), "bsdf": {"type": "diffuse", "reflectance": refl}}
    c2w = cams.c2w[0]
    sensor = {
        "type": "perspective", "fov": 39.6, "fov_axis": "y",
        "to_world": mi.ScalarTransform4f().look_at(origin=c2w[:3, 3].tolist(), target=[0, 0, 0], up=[0, 0, 1]),
        "film": {"type": "hdrfilm", "width": cams.width, "height": cams.height, "rfilter": {"type": "box"}},
        "sampler": {"type": "independent", "sample_count": spp},
    }
    scene = mi.load_dict({"type": "scene", "integrator": {"type": "prb", "max_depth": 2}, "sensor": sensor,
                          "light": {"type": "constant"}, **shapes})
    # Dr.Jit launches kernels asynchronously: time until the pixels are read back, and vary the
    # seed so no call can reuse an earlier result.
    seeds = iter(range(1, 1 << 30))
    fwd = timeit(lambda: np.array(mi.render(scene, spp=spp, seed=next(seeds))), repeats)
    params = mi.traverse(scene)
    keys = [k for k in params.keys() if  # noqa: SIM118 - SceneParameters, not a dict
            k.endswith("reflectance.data")]
    if not keys:
        return fwd, "n/a (no texture)"

    def step():
        for k in keys:
            dr.enable_grad(params[k])
        params.update()
        img = mi.render(scene, params, spp=spp, seed=next(seeds))
        dr.backward(dr.mean(img, axis=None))
        for k in keys:
            np.array(dr.grad(params[k]))  # read back: waits for the kernels

    try:
        return fwd, timeit(step, repeats)
    except RuntimeError as exc:
        return fwd, f"n/a ({str(exc)[:40]})"


def fmt(x) -> str:
    if isinstance(x, int):
        return str(x)
    return f"{x:.1f}" if isinstance(x, float) else str(x)


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=Path, default=DEFAULT_ASSETS, help="folder of asset folders / files")
    ap.add_argument("--resolution", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 assets, 2 repeats, no peers")
    ap.add_argument("--no-peers", action="store_true", help="skip pyrender and Mitsuba")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (0: torch's default)")
    ap.add_argument("--match", nargs="*", default=None, help="only assets whose folder name contains one of these")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    files = sorted(p for p in args.assets.glob("*/*") if p.suffix.lower() in (".glb", ".gltf", ".obj")
                   and "draco" not in p.name) if args.assets.is_dir() else []
    if args.match:
        files = [p for p in files if any(m in p.parent.name for m in args.match)]
    if not files:
        print(f"no assets under {args.assets}; nothing to benchmark")
        return 0
    repeats = 2 if args.quick else args.repeats
    peers = not (args.quick or args.no_peers)
    backends = [b for b in ("torch", "gl") if available_backends()[b]]
    cams = rig_cameras(args.resolution)[[2]]
    rows = []
    for path in files:
        try:
            asset = load_asset(path)
        except Exception as exc:  # noqa: BLE001
            print(f"skip {path.name}: {exc}", file=sys.stderr)
            continue
        if not asset.mesh.is_textured:
            continue
        mesh = MeshTensors.from_mesh(asset.mesh)
        row = {"asset": path.parent.name if path.parent != args.assets else path.stem, "faces": mesh.num_faces}
        for b in backends:
            row[f"{b} fwd"], row[f"{b} fwd+bwd"] = photo3d_times(mesh, cams, b, repeats)
        row["cached-vis fwd+bwd"] = cached_time(mesh, cams, repeats)
        if peers:
            row["pyrender fwd"] = pyrender_time(asset.mesh, cams, repeats)
            row["mitsuba fwd"], row["mitsuba fwd+bwd"] = mitsuba_times(asset.mesh, cams, repeats, threads=args.threads)
        for s in (1, 2):
            row[f"grid ssaa{s}"] = timeit(lambda m=mesh, s=s: render_grid(m, args.resolution, ssaa=s), max(1, repeats // 2))
        rows.append(row)
        print(f"{row['asset']}: " + ", ".join(f"{k} {fmt(v)}" for k, v in row.items() if k not in ("asset",)),
              file=sys.stderr)
        if args.quick and len(rows) >= 2:
            break
    cols = ["asset", "faces"] + [c for c in rows[0] if c not in ("asset", "faces")] if rows else []
    print(f"\nms per {args.resolution}x{args.resolution} view (median of {repeats}); grid = 4 views, auto backend;"
          f" torch threads = {torch.get_num_threads()}\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(fmt(row.get(c, "-")) for c in cols) + " |")
    if peers and rows:
        print("\nratios (photo3d / peer; < 1 means photo3d is faster)\n")
        ours = [f"{b} fwd+bwd" for b in backends] + ["cached-vis fwd+bwd"]
        head = [f"{b} fwd / mitsuba fwd" for b in backends] + [f"{c} / mitsuba fwd+bwd" for c in ours]
        head += [f"{b} fwd / pyrender fwd" for b in backends]
        print("| asset | " + " | ".join(head) + " |")
        print("|---|" + "---|" * len(head))
        for r in rows:
            cells = [ratio(r.get(f"{b} fwd"), r.get("mitsuba fwd")) for b in backends]
            cells += [ratio(r.get(c), r.get("mitsuba fwd+bwd")) for c in ours]
            cells += [ratio(r.get(f"{b} fwd"), r.get("pyrender fwd")) for b in backends]
            print(f"| {r['asset']} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
