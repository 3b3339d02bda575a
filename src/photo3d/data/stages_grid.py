"""Stages 5-8: render the rig's grid -> edit + verify (re-edit on failure) -> tone match -> write."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from photo3d.data.layout import sample_files
from photo3d.data.stage import Stage, StageContext, StageFailure
from photo3d.grid import compose_grid, split_grid
from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE, foreground_mask
from photo3d.imaging.resample import resize
from photo3d.imaging.tone import match_tone
from photo3d.io import atomic_write_bytes, decode_image, encode_png

WHITE = (1.0, 1.0, 1.0)


_RENDER_THREAD: ThreadPoolExecutor | None = None
_RENDER_LOCK = threading.Lock()


def render_asset_grid(path: str | Path, resolution: int, frame: str = "y-up", backend: str = "auto") -> torch.Tensor:
    """The one place the builder calls the renderer: asset file -> ``[3, 2R, 2R]`` rig grid.

    ``frame="world"`` files are already in the TRELLIS frame (rendered as they are, not
    re-centred, like the released data); ``frame="gaussians"`` is a 3DGS ``.ply`` in that frame
    (splatted with TRELLIS's filter); other files are normalised (glTF/OBJ Y-up -> Z-up, centred,
    longest side 1). Renders run on one dedicated thread per process because an
    OpenGL context belongs to the thread that created it.
    """
    global _RENDER_THREAD
    with _RENDER_LOCK:
        if _RENDER_THREAD is None:
            _RENDER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="p3d-render")
    return _RENDER_THREAD.submit(_render, Path(path), resolution, frame, backend).result()


def _render(path: Path, resolution: int, frame: str, backend: str) -> torch.Tensor:
    from photo3d.assets import load_asset
    from photo3d.render import render_grid

    if frame == "gaussians":  # TRELLIS's Gaussians, rendered the way TRELLIS renders them (colour kept)
        from photo3d.gaussians import load_ply, render_gaussian_grid
        from photo3d.trellis.gs_decoder import RENDER_OPTIONS, clamp_colors

        return render_gaussian_grid(clamp_colors(load_ply(path)), resolution, (1.0, 1.0, 1.0), **RENDER_OPTIONS)
    asset = load_asset(path, normalize=True) if frame != "world" else load_asset(path, normalize=False, up="z")
    return render_grid(asset, resolution=resolution, background=(1.0, 1.0, 1.0), backend=backend).clamp(0, 1)


class RenderStage(Stage):
    """Asset -> the rig's 2x2 grid. Record: ``{"grid": rel path, "resolution": R}``."""

    name = "render"
    outputs = ("grid",)
    kind = "cpu"
    default_concurrency = 1  # renders share one thread (see render_asset_grid)

    def __init__(self, cfg, from_prompts: bool) -> None:
        self.cfg = cfg
        self.inputs = ("image_to_3d",) if from_prompts else ()

    def describe(self) -> dict[str, Any]:
        return {"backend": "photo3d.render", "rasterizer": self.cfg.backend, "resolution": self.cfg.resolution}

    def asset_path(self, ctx: StageContext) -> tuple[Path, str]:
        if self.inputs:
            rec = ctx.records["image_to_3d"]
            return ctx.path(rec["mesh"]), rec["frame"]
        return Path(ctx.sample.asset), "y-up"

    def process(self, ctx: StageContext) -> dict[str, Any]:
        from photo3d.errors import Photo3DError

        path, frame = self.asset_path(ctx)
        try:
            grid = render_asset_grid(path, self.cfg.resolution, frame, self.cfg.backend)
        except Photo3DError as exc:
            raise StageFailure("bad_asset", str(exc), permanent=True) from exc
        out = atomic_write_bytes(ctx.workdir / "grid.png", encode_png(grid))
        return {"grid": ctx.rel(out), "resolution": self.cfg.resolution}


class EditStage(Stage):
    """Photoreal edit of the whole grid, verified against the render; re-edits on failure.

    Record: ``{"grid": rel path (edited, resized to the render's size), "attempts": [...],
    "retries": int, "verification": {...}}``. A grid that fails every attempt is a permanent
    ``verification_failed`` failure carrying all attempts' scores.
    """

    name = "edit"
    inputs = ("render",)
    outputs = ("grid", "verification")

    def __init__(self, cfg, verify_cfg, api, prompt_stage: str | None) -> None:
        from photo3d.data.editors import make_editor

        self.cfg, self.verify_cfg = cfg, verify_cfg
        self.editor = make_editor(cfg, api)
        self.kind = "gpu" if cfg.backend == "kontext" else ("api" if cfg.backend == "openai" else "cpu")
        self.inputs = ("render",) + ((prompt_stage,) if prompt_stage else ())
        self._encoder = None

    def setup(self) -> None:
        self.editor.load()
        if self.verify_cfg.enabled and self.verify_cfg.encoder and self._encoder is None:
            from photo3d.encoders import load_encoder

            self._encoder = load_encoder(self.verify_cfg.encoder)

    def describe(self) -> dict[str, Any]:
        return {**self.editor.describe(), "max_attempts": self.cfg.max_attempts if self.editor.can_reedit else 1,
                "verify": {k: getattr(self.verify_cfg, k) for k in ("enabled", "min_iou", "min_edge_f",
                                                                    "edge_tolerance", "encoder", "min_feature_sim")}}

    def process(self, ctx: StageContext) -> dict[str, Any]:
        from photo3d.data.verify import verify_structure

        if self.verify_cfg.enabled and self.verify_cfg.encoder and self._encoder is None:
            self.setup()
        render_png = ctx.path(ctx.records["render"]["grid"]).read_bytes()
        render = decode_image(render_png, background=WHITE)
        prompt = self.cfg.prompt
        attempts: list[dict[str, Any]] = []
        n = max(1, self.cfg.max_attempts) if self.editor.can_reedit else 1
        for attempt in range(n):
            raw = self.editor.edit(ctx, render_png, prompt, attempt)
            edited = decode_image(raw, background=WHITE, source=f"edit {attempt} of sample {ctx.sample.key}")
            size = [edited.shape[2], edited.shape[1]]
            edited = resize(edited[None], tuple(render.shape[-2:]))[0]
            if self.verify_cfg.enabled:
                v = verify_structure(render, edited, self.verify_cfg, self._encoder).to_dict()
            else:
                v = {"accepted": True, "views": [], "failed_checks": []}
            attempts.append({"attempt": attempt, "size": size, **v})
            if v["accepted"]:
                out = atomic_write_bytes(ctx.workdir / "edited.png", encode_png(edited))
                return {"grid": ctx.rel(out), "attempts": attempts, "retries": attempt, "verification": v}
        raise StageFailure("verification_failed", f"{n} edit(s) failed structure checks: "
                           f"{', '.join(attempts[-1]['failed_checks'])}", permanent=True,
                           details={"attempts": attempts})


class ToneStage(Stage):
    """Optional tone matching of the edit to the render. Record: ``{"grid": rel path}``."""

    name = "tone"
    inputs = ("render", "edit")
    outputs = ("grid",)
    kind = "cpu"

    def __init__(self, cfg, white_tolerance: float) -> None:
        self.cfg, self.white_tolerance = cfg, white_tolerance

    def describe(self) -> dict[str, Any]:
        return {"mode": self.cfg.mode, "strength": self.cfg.strength}

    def process(self, ctx: StageContext) -> dict[str, Any]:
        render = decode_image(ctx.path(ctx.records["render"]["grid"]).read_bytes(), background=WHITE)
        edited = decode_image(ctx.path(ctx.records["edit"]["grid"]).read_bytes(), background=WHITE)
        toned = tone_grid(edited, render, self.cfg.mode, self.cfg.strength, self.white_tolerance)
        out = atomic_write_bytes(ctx.workdir / "toned.png", encode_png(toned))
        return {"grid": ctx.rel(out)}


def tone_grid(edited: torch.Tensor, render: torch.Tensor, mode: str, strength: float = 1.0,
              white_tolerance: float = SILHOUETTE_WHITE_TOLERANCE) -> torch.Tensor:
    """Tone-match an edited 2x2 grid to its render view by view (:func:`photo3d.imaging.match_tone`).

    The masks are the structure check's silhouettes (``white_tolerance``, cleaned up with a
    1 px opening and closing), so an editor's off-white background is never recoloured.

    Args:
        edited, render: ``[3, H, W]`` grids in [0, 1] of one size.
        mode: a tone matching mode (:data:`photo3d.imaging.tone.TONE_MODES`).
        strength: blend weight of the matched colours.
        white_tolerance: silhouette rule (see :mod:`photo3d.imaging.masks`).

    Returns:
        ``[3, H, W]`` tone-matched grid.
    """
    e, r = split_grid(edited), split_grid(render)
    toned = match_tone(e, r, mode=mode, strength=strength,
                       reference_mask=foreground_mask(e, white_tolerance, 1),
                       render_mask=foreground_mask(r, white_tolerance, 1))
    return compose_grid(toned)


class WriteStage(Stage):
    """Writes one sample of the Photo3D-MV layout (see :mod:`photo3d.data.layout`).

    Files: ``grid_{id}.png`` (final edited grid), ``renders/grid_{id}.png`` (the unedited
    render), ``{id}/mesh.obj`` (+ ``mesh.mtl``, textures; TRELLIS frame, Z up), or for TRELLIS
    assets ``{id}/gaussians.ply`` + ``{id}/slat.npz``.
    """

    name = "write"
    outputs = ("files",)
    kind = "cpu"

    def __init__(self, grid_stage: str, from_prompts: bool) -> None:
        self.grid_stage = grid_stage
        self.from_prompts = from_prompts
        self.inputs = ("render", "edit") + (("tone",) if grid_stage == "tone" else ()) + \
            (("image_to_3d",) if from_prompts else ())

    def process(self, ctx: StageContext) -> dict[str, Any]:
        from photo3d.data.objio import write_obj

        i = ctx.sample.index
        out = ctx.out
        files = sample_files(i)
        atomic_write_bytes(out / files["render"], ctx.path(ctx.records["render"]["grid"]).read_bytes())
        if self.from_prompts:
            rec = ctx.records["image_to_3d"]
            path, frame = ctx.path(rec["mesh"]), rec["frame"]
        else:
            path, frame = Path(ctx.sample.asset), "y-up"
        if frame == "gaussians":  # TRELLIS: the Gaussians and the SLAT the trainer reads, no mesh
            from photo3d.data.layout import GAUSSIANS, SLAT

            files["mesh"], files["slat"] = GAUSSIANS.format(id=i), SLAT.format(id=i)
            atomic_write_bytes(out / files["mesh"], path.read_bytes())
            atomic_write_bytes(out / files["slat"], (path.parent / "slat.npz").read_bytes())
        else:
            from photo3d.assets import load_asset

            asset = load_asset(path, normalize=True) if frame != "world" else load_asset(path, normalize=False, up="z")
            mesh = out / files["mesh"]
            write_obj(asset.mesh, mesh.parent, mesh.stem)
        # the grid goes last: its presence marks a complete sample for readers of the folder
        atomic_write_bytes(out / files["grid"], ctx.path(ctx.records[self.grid_stage]["grid"]).read_bytes())
        return {"files": files}
