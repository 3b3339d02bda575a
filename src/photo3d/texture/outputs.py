"""Write the outputs of a ``photo3d texture`` run and its ``record.json``.

OUTDIR after a finished run::

    textured.glb            the mesh with the baked base colour (and metallic-roughness map when
                            the texturer gave materials), in the source file's coordinates
    texture.png             the baked base colour (the atlas)
    metallic_roughness.png  glTF metallic-roughness map (G roughness, B metallic), when given
    grid.png                the Photo3D rig's 2x2 grid of the textured mesh
    turntable.png           held-out views (yaw 45/135/225/315 x pitch -20/+20), 2x4 tiles
    turntable.gif           a full turn
    views/                  the texturer's views (view_00.png ...) and cameras.json, for views
                            results: ``photo3d bake MESH --views OUT/views`` re-bakes them
    gaussians.ply           the texturer's Gaussians, for Gaussian results
    record.json             what ran (texturer, weights, stand-in or not), settings, bake/fit
                            statistics, render PSNR against the texturer's output, timings

``record.json`` is written last (a stale one is removed first), every file atomically.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
import torch

from photo3d.texture.base import ViewsResult
from photo3d.texture.config import TextureConfig

RENDER_CHUNK = 4  # views per batch for preview renders


def textured_asset(asset, albedo_u8):
    """``asset`` (one material) with ``albedo_u8`` (``H x W x 3`` uint8) as its base-colour texture."""
    mesh = asset.mesh
    mat = dataclasses.replace(mesh.materials[0], base_color_texture=albedo_u8,
                              extras={**mesh.materials[0].extras, "base_color_image": None})
    return dataclasses.replace(asset, mesh=dataclasses.replace(mesh, materials=[mat]))


def write_outputs(out_dir: Path, source_asset, bake_asset, result, albedo: torch.Tensor, mr: torch.Tensor | None,
                  config: TextureConfig, prompt: str, texturer_record: dict, bake: dict, timing: dict, t0: float,
                  device):
    """Write every output of a finished run (see module docs) and return the ``TextureResult``."""
    from photo3d.assets import export_glb
    from photo3d.enhance.outputs import gif_cameras, save_gif, turntable_cameras
    from photo3d.enhance.record import versions
    from photo3d.gaussians import save_ply
    from photo3d.grid import compose_grid, tile
    from photo3d.io import atomic_write_json, save_image, to_uint8
    from photo3d.texture.pipeline import TextureResult

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "record.json").unlink(missing_ok=True)
    files: dict[str, Path] = {}
    albedo_u8 = to_uint8(albedo)
    mr_u8 = None if mr is None else to_uint8(mr)
    textured = textured_asset(bake_asset, albedo_u8)
    files["glb"] = export_glb(textured, out_dir / "textured.glb", {0: albedo_u8},
                              metallic_roughness=None if mr_u8 is None else {0: mr_u8})
    files["texture"] = save_image(out_dir / "texture.png", albedo_u8)
    if mr_u8 is not None:
        files["metallic_roughness"] = save_image(out_dir / "metallic_roughness.png", mr_u8)

    from photo3d.cameras import rig_cameras

    res = config.preview_resolution
    files["grid"] = save_image(out_dir / "grid.png", compose_grid(_render(textured, rig_cameras(res), config, device)))
    if config.turntable:
        files["turntable"] = save_image(out_dir / "turntable.png",
                                        tile(_render(textured, turntable_cameras(res), config, device), cols=4))
        files["turntable_gif"] = save_gif(out_dir / "turntable.gif", list(_render(textured, gif_cameras(res), config, device)))
    if isinstance(result, ViewsResult):
        files["views"] = _save_views(out_dir / "views", result)
    else:
        files["gaussians"] = save_ply(out_dir / "gaussians.ply", result.gaussians.detach())

    mesh = source_asset.mesh
    record = {
        "command": "photo3d texture",
        "mesh": {"path": str(source_asset.source) if source_asset.source is not None else None,
                 "faces": int(mesh.num_faces), "vertices": int(mesh.num_vertices),
                 "uv": "fresh xatlas atlas" if config.uv == "atlas" else "the mesh's own"},
        "prompt": prompt,
        "texturer": texturer_record,
        "config": config.to_dict(),
        "bake": bake,
        "device": str(device),
        "timing": {**timing, "total_s": round(time.perf_counter() - t0, 2)},
        "versions": versions(),
        "files": {k: v.name for k, v in files.items()},
    }
    files["record"] = atomic_write_json(out_dir / "record.json", record)
    return TextureResult(out_dir, files, albedo, mr, record)


def _render(asset, cameras, config: TextureConfig, device) -> torch.Tensor:
    """``[N, 3, H, W]`` supersampled renders of ``asset`` on CPU, a few views at a time."""
    from photo3d.render import MeshTensors, render_views

    mesh = MeshTensors.from_mesh(asset.mesh, device)
    with torch.no_grad():
        return render_views(mesh, cameras, views_per_batch=RENDER_CHUNK, ssaa=2, backend=config.backend).rgb.cpu()


def _save_views(folder: Path, result: ViewsResult) -> Path:
    """The texturer's views as ``view_XX.png`` + ``cameras.json`` (with the views and their weights)."""
    from photo3d.io import atomic_write_json, save_image

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, view in enumerate(result.images.detach().cpu()):
        names.append(f"view_{i:02d}.png")
        save_image(folder / names[-1], view.clamp(0, 1))
    cams = result.cameras.resized(result.images.shape[-1], result.images.shape[-2])
    doc = {**cams.to_json(), "views": names}
    if result.view_weights is not None:
        doc["view_weights"] = [float(w) for w in result.view_weights]
    atomic_write_json(folder / "cameras.json", doc)
    return folder
