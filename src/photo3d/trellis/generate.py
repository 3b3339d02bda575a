"""``photo3d generate``: one image -> a TRELLIS asset on disk (Gaussians, SLAT, renders, record).

Files in the output folder (staged and moved into place together, ``record.json`` last):

* ``gaussians.ply``  the 3D Gaussians in the standard 3DGS / TRELLIS ``.ply`` layout
  (:func:`photo3d.gaussians.save_ply`).
* ``slat.npz``       the structured latent: ``coords [N, 3]`` (64^3 voxels) and de-normalised
  ``feats [N, 8]`` -- the per-sample file Photo3D's TRELLIS fine-tuning reads.
* ``grid.png``       the Photo3D rig's 2x2 grid; ``turntable.png`` 8 held-out views;
  ``turntable.gif`` a full turn. Rendered with TRELLIS's filter (0.1 px, anti-aliased), colours
  clamped at 0 like its rasteriser, on white.
* ``condition.png``  the 518^2 object crop the model was conditioned on.
* ``record.json``    settings, which weights ran (stand-ins are marked), sampler settings, timings.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from photo3d.errors import InputError
from photo3d.gaussians import save_ply
from photo3d.io import atomic_write_bytes, atomic_write_json, decode_array, save_image
from photo3d.io.output import open_output
from photo3d.trellis.config import GenerateConfig
from photo3d.trellis.gs_decoder import RENDER_OPTIONS, clamp_colors
from photo3d.trellis.pipeline import load_pipeline

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def render_outputs(gaussians, resolution: int) -> dict[str, torch.Tensor]:
    """``grid`` [3, 2R, 2R], ``turntable`` (8 held-out views tiled) and ``gif`` frames of the asset."""
    from photo3d.enhance.outputs import gif_cameras, turntable_cameras
    from photo3d.gaussians import render_gaussian_grid, render_gaussians
    from photo3d.grid import tile

    g = clamp_colors(gaussians.detach().map(lambda t: t.float()))
    with torch.no_grad():
        grid = render_gaussian_grid(g, resolution, **RENDER_OPTIONS)
        turn = render_gaussians(g, turntable_cameras(resolution), **RENDER_OPTIONS).rgb.clamp(0, 1)
        gif = render_gaussians(g, gif_cameras(resolution), **RENDER_OPTIONS).rgb.clamp(0, 1)
    return {"grid": grid.cpu(), "turntable": tile(turn.cpu(), cols=4), "gif": gif.cpu()}


def generate(image_path: str | Path, out_dir: str | Path, cfg: GenerateConfig, log=print) -> dict:
    """Run image-to-3D and write the files of the module docstring. Returns the record."""
    from photo3d.device import resolve_device
    from photo3d.enhance.outputs import save_gif

    image_path, out = Path(image_path), Path(out_dir)
    if not image_path.is_file():
        raise InputError(f"{image_path}: no such image file")
    image = Image.fromarray(decode_array(image_path.read_bytes(), image_path))  # RGBA when it has alpha
    with open_output(out, markers=("record.json",)) as staged:  # probed and locked before any work;
        # the files are staged and appear together at the end, record.json last
        device = resolve_device(cfg.device)
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        pipe = load_pipeline(cfg.weights, device, DTYPES.get(cfg.precision), cfg.checkpoint or None,
                             cfg.dinov2 or None)
        times["load_s"] = time.perf_counter() - t0
        desc = pipe.description
        kind = "paper's model" if desc.get("is_paper_model") else "STAND-IN"
        log(f"photo3d generate: TRELLIS ({kind}): {desc.get('weights')}; conditioner {desc['conditioner']['name']}; "
            f"device {device}, blocks {desc.get('torso_dtype')}")
        ss = _override(pipe.structure_sampler, cfg.ss_steps, cfg.ss_cfg)
        sl = _override(pipe.slat_sampler, cfg.slat_steps, cfg.slat_cfg)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        result = pipe.run(image, seed=cfg.seed, matting=cfg.matting, structure_params=ss, slat_params=sl)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            times["peak_gpu_gb"] = torch.cuda.max_memory_allocated(device) / 2 ** 30
        times["generate_s"] = time.perf_counter() - t0
        log(f"photo3d generate: {result.info['voxels']} voxels, {result.info['gaussians']} Gaussians "
            f"in {times['generate_s']:.1f} s")
        t0 = time.perf_counter()
        pictures = render_outputs(result.gaussians, cfg.resolution)
        times["render_s"] = time.perf_counter() - t0
        files = {"ply": save_ply(staged.folder / "gaussians.ply", result.gaussians)}
        files["slat"] = save_slat(staged.folder / "slat.npz", result.coords, result.slat)
        files["grid"] = save_image(staged.folder / "grid.png", pictures["grid"])
        files["turntable"] = save_image(staged.folder / "turntable.png", pictures["turntable"])
        files["gif"] = save_gif(staged.folder / "turntable.gif", list(pictures["gif"]))
        files["condition"] = save_image(staged.folder / "condition.png", np.asarray(result.condition_image))
        record = {
            "image": str(image_path), "config": cfg.to_dict(), "model": desc, "matting": result.matting,
            "samplers": {"structure": ss.to_dict(), "slat": sl.to_dict()}, **result.info,
            "device": str(device), "times": {k: round(v, 3) for k, v in times.items()},
            "render": {**RENDER_OPTIONS, "colors": "clamped at 0 (rasteriser)", "background": "white"},
            "files": {k: Path(v).name for k, v in files.items()},
        }
        atomic_write_json(staged.folder / "record.json", record)
    return record


def _override(params, steps: int | None, strength: float | None):
    """Sampler settings with the command line's overrides."""
    from dataclasses import replace

    return replace(params, **({"steps": steps} if steps is not None else {}),
                   **({"cfg_strength": strength} if strength is not None else {}))


def save_slat(path: str | Path, coords: torch.Tensor, feats: torch.Tensor) -> Path:
    """``slat.npz`` as Photo3D-MV training reads it: ``coords [N, 3]`` int32, de-normalised ``feats [N, 8]``."""
    import io

    buf = io.BytesIO()
    np.savez(buf, coords=coords.numpy().astype(np.int32), feats=feats.float().numpy())
    return atomic_write_bytes(path, buf.getvalue())

