"""Baking speed and quality: photo3d's texel-gather baker and texture fit, against named peers.

**Views -> texture** (``bake_views``, 6 views of the Step1X-3D rig, 768 px, into a 1024² texture)
on textured assets whose own texture is the ground truth: the views are renders of the asset
(2x SSAA), baked back into its own UVs. Peers, measured side by side in the same run:

* ``splat@768`` / ``splat@2048``: the pixel-splat baker of Step1X-3D / Hunyuan3D-2 (every reliable
  pixel adds its colour, weighted by the same cos^4 and view weights, to the 4 texels around its
  UV with bilinear weights; written here from that description, same visibility masks), at the
  views' 768 px and with views upsampled to 2048 px as Step1X-3D does before baking;
* photo3d with the ``torch`` and the ``gl`` visibility backend.

Reported: seconds (median of ``--repeats``; photo3d with and without its inpainting of unseen
texels, which the peers do not do), the share of chart texels a bake determines before
inpainting, and PSNR against the ground-truth texture on the texels *every* method saw.

**Gaussians -> texture** (``fit_texture``): Gaussians on the surface carrying the ground-truth
texture (what a feed-forward texturer outputs), rendered at the Step1X-3D rig + random views;
compared: the bake of those renders alone, photo3d's fit (Laplacian pyramid refining the bake,
pixel weights like the bake), and TexGaussian's recipe (free texels from grey, Adam lr 0.1,
unweighted MSE; run here through ``fit_texture`` with ``levels=1, init="constant", exponent=0,
band_limit=False`` on the same view pool, which TexGaussian re-draws every iteration). Reported: seconds, PSNR of the mesh render
against the Gaussian render at held-out views (the Photo3D rig) and PSNR of the texture against
the ground truth on chart texels.

    python benchmarks/bake.py [--assets DIR] [--repeats 3] [--threads 2] [--fit-steps 100]
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from photo3d.assets import load_asset
from photo3d.bake import bake_views_result, fit_texture_result, texel_surface
from photo3d.bake.project import MIN_COS, _margin, reliable_pixels
from photo3d.cameras import STEP1X3D_VIEW_WEIGHTS, rig_cameras, step1x3d_rig_cameras
from photo3d.gaussians import Gaussians
from photo3d.render import MeshTensors, rasterize, render_views
from photo3d.render.fragment_cache import toward_camera
from photo3d.gaussians import render_gaussians

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "photo3d" / "examples"
BUNDLED = [EXAMPLES / "ycb_004_sugar_box" / "004_sugar_box_1k.glb"]


def median_time(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / (a - b)[:, mask].square().mean().clamp_min(1e-12)))


def truth_texture(asset, size: int) -> torch.Tensor:
    tex = torch.from_numpy(asset.mesh.materials[0].base_color_texture[..., :3]).permute(2, 0, 1)[None].float() / 255
    return F.interpolate(tex, size=(size, size), mode="area", antialias=False)[0]


def splat_bake(asset, images, cameras, size: int, weights, exponent: float = 4.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-splat baking (the peer): ``(texture [3, T, T], determined [T, T])`` before inpainting."""
    mesh = MeshTensors.from_mesh(asset.mesh)
    cams = cameras.resized(images.shape[-1])
    num = torch.zeros(size * size, 3)
    den = torch.zeros(size * size)
    for v in range(len(cams)):
        frags = rasterize(mesh, cams[v], backend="gl")
        hit = frags.mask[0]
        tri = mesh.faces[frags.face_id[0][hit]]
        bary = frags.bary[0][hit][..., None]
        pos = (mesh.vertices[tri] * bary).sum(1)
        nrm = F.normalize((mesh.normals[tri] * bary).sum(1), dim=-1)
        uv = (mesh.uv[tri] * bary).sum(1)
        fwd = torch.from_numpy(cams[v].forward).float()
        cos = (nrm * toward_camera(pos, torch.zeros(len(pos), dtype=torch.long), None, fwd)).sum(-1).abs()
        fy = float(cams.K[v, 1, 1])
        ok = reliable_pixels(frags.depth[0], hit, 1.0 / fy, _margin(None, cams.height))[hit] & (cos >= MIN_COS)
        w = weights[v] * cos.pow(exponent) * ok
        col = images[v].permute(1, 2, 0)[hit]
        x, y = uv[:, 0] * size - 0.5, uv[:, 1] * size - 0.5
        x0, y0 = torch.floor(x), torch.floor(y)
        for dx in (0, 1):
            for dy in (0, 1):
                wx = (x - x0) if dx else (1 - (x - x0))
                wy = (y - y0) if dy else (1 - (y - y0))
                xi, yi = (x0 + dx).long().clamp(0, size - 1), (y0 + dy).long().clamp(0, size - 1)
                idx = yi * size + xi
                ww = w * wx * wy
                num.index_add_(0, idx, ww[:, None] * col)
                den.index_add_(0, idx, ww)
    tex = torch.where(den[:, None] > 0, num / den.clamp_min(1e-12)[:, None], torch.zeros_like(num))
    return tex.T.reshape(3, size, size), (den > 1e-6).view(size, size)


def bake_table(paths, repeats: int) -> list[str]:
    rows = ["| asset | faces | method | seconds | determined / chart texels | PSNR on common texels (dB) |",
            "|---|---|---|---|---|---|"]
    ratios = []
    for path in paths:
        asset = load_asset(path)
        if not asset.mesh.is_textured or len(set(asset.mesh.face_material.tolist())) != 1:
            continue
        truth = truth_texture(asset, 1024)
        cams = step1x3d_rig_cameras(768)
        mesh = MeshTensors.from_mesh(asset.mesh)
        with torch.no_grad():
            views = render_views(mesh, cams, textures=[truth], ssaa=2, backend="gl").rgb
        surf = texel_surface(asset, 1024)
        covered = torch.as_tensor(surf.covered)
        results = {}
        for backend, fill in (("torch", True), ("gl", True), ("gl", False)):
            sec, res = median_time(lambda b=backend, f=fill: bake_views_result(
                asset, views, cams, 1024, STEP1X3D_VIEW_WEIGHTS, backend=b, surface=surf, fill=f), repeats)
            results[f"photo3d ({backend}{'' if fill else ', no inpainting'})"] = (sec, res.texture, res.seen)
        for res_px in (768, 2048):
            big = views if res_px == 768 else F.interpolate(views, size=(res_px, res_px), mode="bicubic",
                                                             align_corners=False).clamp(0, 1)
            sec, (tex, det) = median_time(lambda b=big: splat_bake(asset, b, cams, 1024, STEP1X3D_VIEW_WEIGHTS), repeats)
            results[f"splat@{res_px}"] = (sec, tex, det & covered)
        common = covered.clone()
        for _, _, det in results.values():
            common &= det
        for name, (sec, tex, det) in results.items():
            rows.append(f"| {Path(path).stem} | {asset.mesh.num_faces} | {name} | {sec:.2f} | "
                        f"{float(det[covered].float().mean()):.1%} | {psnr(tex, truth, common):.2f} |")
        ratios.append((Path(path).stem, results))
    rows += ["", "ratios (seconds, photo3d gl / peer; < 1 means photo3d is faster)", "",
             "| asset | gl, no inpainting / splat@768 | gl, no inpainting / splat@2048 | gl / torch |",
             "|---|---|---|---|"]
    for name, r in ratios:
        g, raw = r["photo3d (gl)"][0], r["photo3d (gl, no inpainting)"][0]
        rows.append(f"| {name} | {raw / r['splat@768'][0]:.2f}x | {raw / r['splat@2048'][0]:.2f}x | "
                    f"{g / r['photo3d (torch)'][0]:.2f}x |")
    return rows


def fit_table(path: Path, steps: int, size: int, res_px: int, n_random: int, density: int = 256) -> list[str]:
    asset = load_asset(path)
    truth = truth_texture(asset, size)
    # One Gaussian per texel of a density² atlas (~50k on the sugar box), coloured by the truth.
    dens = texel_surface(asset, density)
    grid = torch.stack([(dens.index % density + 0.5) / density * 2 - 1,
                        (dens.index // density + 0.5) / density * 2 - 1], -1)
    colours = F.grid_sample(truth[None], grid.float().view(1, 1, -1, 2), align_corners=False)[0, :, 0].T
    g = Gaussians.from_points(dens.points, colours, scale=0.004, opacity=0.95)
    cams = step1x3d_rig_cameras(res_px)
    cache: dict[bytes, torch.Tensor] = {}
    spent = [0.0]

    def render_fn(c):  # the Gaussian renders are the same for every method: render them once
        key = c.c2w.tobytes() + c.K.tobytes()
        if key not in cache:
            t = time.perf_counter()
            cache[key] = render_gaussians(g, c, backend="torch").rgb
            spent[0] += time.perf_counter() - t
        return cache[key]

    held = rig_cameras(res_px)
    with torch.no_grad():
        target_held = render_gaussians(g, held, backend="torch").rgb
    mesh = MeshTensors.from_mesh(asset.mesh)
    covered = torch.as_tensor(texel_surface(asset, size).covered)

    def held_psnr(tex):
        with torch.no_grad():
            out = render_views(mesh, held, textures=[tex], backend="gl")
        fg = (out.alpha > 0.5).expand_as(out.rgb)
        return float(10 * torch.log10(1 / (out.rgb - target_held)[fg].square().mean()))

    configs = {
        "bake only (photo3d, 0 steps)": dict(steps=0),
        f"photo3d fit ({steps} steps, pyramid from the bake)": dict(steps=steps),
        f"TexGaussian recipe ({steps} steps, free texels from grey, lr 0.1)": dict(
            steps=steps, lr=0.1, levels=1, init="constant", exponent=0.0, band_limit=False),
    }
    rows = [f"{len(g)} Gaussians; rendering them at the {len(cams) + n_random} fit views took "
            "{render:.1f} s (once, shared by all methods; not in the seconds below)", "",
            "| method | seconds | held-out render PSNR (dB) | texture PSNR on chart texels (dB) |",
            "|---|---|---|---|"]
    fit_texture_result(asset, render_fn, cams, 8, steps=0, random_views=n_random, progress=False)  # fills the cache
    for name, kw in configs.items():
        t = time.perf_counter()
        res = fit_texture_result(asset, render_fn, cams, size, random_views=n_random, backend="gl", progress=False,
                                 **kw)
        sec = time.perf_counter() - t
        rows.append(f"| {name} | {sec:.1f} | {held_psnr(res.texture):.2f} | {psnr(res.texture, truth, covered):.2f} |")
    rows[0] = rows[0].format(render=spent[0])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", default=None, help="folder of textured assets (default: the bundled sugar box)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fit-steps", type=int, default=100)
    ap.add_argument("--fit-size", type=int, default=1024, help="texture size of the fit")
    ap.add_argument("--fit-resolution", type=int, default=256, help="render size of the fit's views")
    ap.add_argument("--fit-random-views", type=int, default=4)
    ap.add_argument("--only", choices=("bake", "fit"), default=None, help="run one of the two tables")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = [str(p) for p in BUNDLED]
    if args.assets:
        paths += sorted(p for p in glob.glob(str(Path(args.assets) / "**" / "*.glb"), recursive=True) if "draco" not in p)
    if args.only != "fit":
        print(f"## Baking views (6 views of the Step1X-3D rig at 768 px -> 1024² texture, median of {args.repeats})\n")
        print("\n".join(bake_table(paths, args.repeats)))
    if args.only == "bake":
        return
    print(f"\n## Fitting a texture to Gaussians ({BUNDLED[0].stem}, {args.fit_size}² texture, 6 + "
          f"{args.fit_random_views} views at {args.fit_resolution} px; held-out: the Photo3D rig)\n")
    print("\n".join(fit_table(BUNDLED[0], args.fit_steps, args.fit_size, args.fit_resolution, args.fit_random_views)))


if __name__ == "__main__":
    main()
