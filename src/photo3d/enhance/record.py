"""Write the outputs of an enhance run and its ``record.json``.

OUTDIR after a finished run::

    enhanced.glb            the asset with the new base colour (source frame, other maps kept)
    grid_before.png         rig 2x2 grid of the input asset
    grid_after.png          rig 2x2 grid of the enhanced asset
    grid_reference.png      the reference views as used (resized; before tone matching)
    grid_target.png         the reference views after tone matching and registration (what the loss saw)
    grid_confidence.png     per-pixel registration confidence (white = trusted; when registered)
    turntable_before.png    held-out views (yaw 45/135/225/315 x pitch -20/+20), 2x4 tiles
    turntable_after.png
    turntable.gif           a full turn, before | after side by side
    texture_after.png       the optimised base-colour texture (texture_after_<m>.png for more
                            textured materials)
    record.json             settings, encoders that ran, the reference check's scores, losses
                            per step, timings, device, versions, notes, held-out metrics when a
                            ground truth was given

``record.json`` is written last; a stale one is removed before anything else is written, so a
folder holds a ``record.json`` only when every file next to it comes from the same finished run.
"""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from photo3d.cameras import rig_cameras
from photo3d.enhance.config import EnhanceConfig
from photo3d.enhance.optimise import LoopResult
from photo3d.enhance.outputs import gif_cameras, save_gif, side_by_side, turntable_cameras
from photo3d.errors import Photo3DError
from photo3d.eval.metrics.detail import detail_metrics
from photo3d.grid import compose_grid, tile
from photo3d.io import atomic_write_json, save_image, to_uint8

RENDER_CHUNK = 4  # views per batch for output renders


@dataclass
class EnhanceResult:
    """What :func:`~photo3d.enhance.pipeline.enhance` produced.

    Attributes:
        out_dir: the output folder.
        files: output name -> path (``glb``, ``grid_before``, ``record``...).
        textures: material index -> final ``H x W x C`` uint8 base-colour texture.
        record: the content of ``record.json``.
    """

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    textures: dict[int, np.ndarray] = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    @property
    def heldout_metrics(self) -> dict | None:
        """``{"before": {...}, "after": {...}}`` when a ground truth was given."""
        return self.record.get("heldout_metrics")


def eval_ssaa(resolution: int) -> int:
    """Supersampling for output pictures and metrics: up to 4x, at most ~1024 px of shading.

    Textures are sampled without mipmaps, so a render that minifies a 1024-4096 texel texture
    into a few hundred pixels aliases; the aliasing reads as "detail" to a high-pass metric.
    Evaluation renders are therefore supersampled (a box-filtered, anti-aliased render).
    """
    return max(1, min(4, 1024 // max(resolution, 1)))


def render_with(prep, cameras, textures: dict[int, torch.Tensor] | None, mesh_t=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rgb [N,3,H,W], alpha [N,1,H,W])`` of the prepared mesh (or ``mesh_t``) with ``textures``."""
    from photo3d.enhance.views import FixedViews

    mesh = mesh_t if mesh_t is not None else prep.views.mesh
    texs = None
    if textures is not None:
        texs = [textures.get(m) for m in range(mesh.num_materials)]
        texs = [t if t is not None else mesh.textures[m] for m, t in enumerate(texs)]
    rgb, alpha = [], []
    for i in range(0, len(cameras), RENDER_CHUNK):  # bounded memory at 4x supersampling
        views = FixedViews(mesh, cameras[i:i + RENDER_CHUNK], ssaa=eval_ssaa(cameras.width))
        with torch.no_grad():
            out = views.render(texs)
        rgb.append(out.rgb.cpu())
        alpha.append(out.alpha.cpu())
    return torch.cat(rgb), torch.cat(alpha)


def write_outputs(out_dir: Path, prep, final: dict[int, torch.Tensor], loop: LoopResult, config: EnhanceConfig,
                  enc_record: dict, loss_cfg: dict, timing: dict, t0: float, *, ground_truth=None,
                  encoders=None, log: Callable[[str], None] = print, reference_check=None):
    """Write every output of a finished run (see module docs) and return the :class:`EnhanceResult`."""
    from photo3d.assets import export_glb

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "record.json").unlink(missing_ok=True)
    files: dict[str, Path] = {}
    textures = {m: to_uint8(t) for m, t in final.items()}
    res = config.resolution
    files["glb"] = export_glb(prep.asset, out_dir / "enhanced.glb", textures)

    rig = rig_cameras(res)
    before, _ = render_with(prep, rig, None)
    after, _ = render_with(prep, rig, final)
    files["grid_before"] = save_image(out_dir / "grid_before.png", compose_grid(before))
    files["grid_after"] = save_image(out_dir / "grid_after.png", compose_grid(after))
    refs = prep.references.views.cpu()
    targets = (prep.loss_targets if prep.loss_targets is not None else prep.targets)[:, :3].detach().cpu()
    is_rig = prep.references.kind == "grid"
    layout = compose_grid if is_rig else tile
    files["grid_reference"] = save_image(out_dir / "grid_reference.png", layout(refs))
    files["grid_target"] = save_image(out_dir / "grid_target.png", layout(targets))
    if prep.registrations:
        conf = prep.loss_targets[:, 3:4].detach().cpu().expand(-1, 3, -1, -1)
        files["grid_confidence"] = save_image(out_dir / "grid_confidence.png", layout(conf))
    for i, (m, tex) in enumerate(sorted(textures.items())):
        name = "texture_after" if i == 0 else f"texture_after_{m}"
        files[name] = save_image(out_dir / f"{name}.png", tex)

    heldout = None
    if config.turntable or ground_truth is not None:
        cams = turntable_cameras(res)
        tt_before, _ = render_with(prep, cams, None)
        tt_after, _ = render_with(prep, cams, final)
        if config.turntable:
            files["turntable_before"] = save_image(out_dir / "turntable_before.png", tile(tt_before, cols=4))
            files["turntable_after"] = save_image(out_dir / "turntable_after.png", tile(tt_after, cols=4))
            gcams = gif_cameras(res)
            g_before, _ = render_with(prep, gcams, None)
            g_after, _ = render_with(prep, gcams, final)
            files["turntable_gif"] = save_gif(out_dir / "turntable.gif", list(side_by_side(g_before, g_after)))
        if ground_truth is not None:
            heldout = heldout_metrics(ground_truth, cams, tt_before, tt_after, prep.device, encoders, log)

    record = {
        "command": "photo3d enhance",
        "interrupted": False,
        "asset": _asset_record(prep),
        "reference": {"kind": prep.references.kind, "files": prep.references.files,
                      "views": len(prep.references.cameras),
                      "size": [prep.references.cameras.width, prep.references.cameras.height],
                      "tone_match": config.tone,
                      "tone_drift": None if prep.drift is None else prep.drift.to_record(),
                      "check": None if reference_check is None else reference_check.to_dict()},
        "config": config.to_dict(),
        "loss_config": loss_cfg,
        "encoders": enc_record,
        "device": str(prep.device),
        "timing": {**timing, "total_s": round(time.perf_counter() - t0, 2)},
        "steps_done": loop.steps,
        "losses": loop.history,
        "notes": prep.notes,
        "registration": registration_record(prep),
        "heldout_metrics": heldout,
        "versions": versions(),
        "files": {k: v.name for k, v in files.items()},
    }
    files["record"] = atomic_write_json(out_dir / "record.json", record)
    return EnhanceResult(out_dir, files, textures, record)


def heldout_metrics(ground_truth, cams, before: torch.Tensor, after: torch.Tensor, device, encoders,
                    log: Callable[[str], None]) -> dict:
    """Metrics of the before/after held-out views against renders of ``ground_truth``.

    ``ground_truth`` is an asset (or its path) with the same geometry, or an ``(rgb, alpha)`` pair
    already rendered at ``cams``.
    """
    if isinstance(ground_truth, (tuple, list)):
        gt_rgb, gt_alpha = ground_truth
    else:
        gt_rgb, gt_alpha = render_ground_truth(ground_truth, cams, device)
    enc = metric_encoder(encoders, device, log)
    mask = gt_alpha > 0.5
    return {
        "views": f"held-out: yaw 45/135/225/315 x pitch -20/+20, {cams.width}px, ssaa {eval_ssaa(cams.width)}",
        "encoder": None if enc is None else enc.name,
        "before": detail_metrics(before, gt_rgb, mask, enc),
        "after": detail_metrics(after, gt_rgb, mask, enc),
    }


def render_ground_truth(path, cams, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Render a ground-truth asset (or asset file) at ``cams``: ``(rgb, alpha)`` on CPU."""
    from photo3d.assets import Asset, load_asset
    from photo3d.enhance.views import FixedViews
    from photo3d.render import MeshTensors

    gt = path if isinstance(path, Asset) else load_asset(path)
    views = FixedViews(MeshTensors.from_mesh(gt.mesh, device), cams, ssaa=eval_ssaa(cams.width))
    with torch.no_grad():
        out = views.render()
    return out.rgb.cpu(), out.alpha.cpu()


def metric_encoder(encoders, device, log: Callable[[str], None]):
    """The FID Inception-v3 for the Inception distance (reused when it is the loss encoder).

    With test-double loss encoders the metric uses the same double (its name is recorded), so
    tests never load the 87 MB Inception.
    """
    name = getattr(encoders[0], "name", "").lower() if encoders is not None else ""
    if "inception" in name or "tiny" in name:
        return encoders[0]
    try:
        from photo3d.encoders import load_encoder

        return load_encoder("inception-fid", device)
    except Photo3DError as exc:
        log(f"note: no Inception distance ({exc})")
        return None


def registration_record(prep) -> dict:
    """Per-pass, per-view alignment results (residual, confidence, fold fraction, status)."""
    if not prep.registrations:
        return {"enabled": False}
    last = prep.registrations[-1][1]
    return {
        "enabled": True,
        "method": "OpenCV DIS optical flow (MEDIUM) on local-contrast-normalised luminance, forward-backward "
                  "confidence",
        "dropped_views": [v.view for v in last.views if v.status != "ok"],
        "passes": [{"step": step, "seconds": round(reg.seconds, 3), "views": reg.to_record()}
                   for step, reg in prep.registrations],
    }


def _asset_record(prep) -> dict:
    mesh = prep.asset.mesh
    return {
        "path": str(prep.asset.source) if prep.asset.source is not None else None,
        "faces": int(mesh.num_faces),
        "vertices": int(mesh.num_vertices),
        "materials": len(mesh.materials),
        "optimised_materials": {
            str(m): {"texture_size": list(t.shape[-2:]),
                     "seen_texels": round(float(prep.masks[m].float().mean()), 4),
                     "finest_pyramid_level": prep.finest.get(m, 0)}
            for m, t in prep.originals.items()
        },
    }


def versions() -> dict:
    """Versions of the software that ran."""
    import photo3d

    return {"photo3d": photo3d.__version__, "python": sys.version.split()[0], "torch": torch.__version__,
            "numpy": np.__version__, "platform": platform.platform()}
