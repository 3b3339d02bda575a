"""``photo3d render ASSET... -o OUT``: the multi-view grid of one or many assets.

One asset writes the grid image at ``OUT`` (a ``.png`` path); several assets write
``OUT/<name>.png`` each, keep going past failures and list them at the end (exit 1 if any failed).
Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from photo3d.cli._args import add_config_arguments, config_from_args
from photo3d.config import TypedConfig

BACKGROUND_NAMES = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}


@dataclass
class RenderConfig(TypedConfig):
    """How ``photo3d render`` renders (the defaults reproduce the Photo3D rig's grid)."""

    resolution: int = field(default=512, metadata={"help": "pixels per view side"})
    views: int = field(default=4, metadata={"help": "views per ring, evenly spaced in yaw from 0 (4 = the rig)"})
    elevations: tuple[float, ...] = field(default=(0.0,), metadata={"help": "camera pitches in degrees, one grid row each"})
    background: tuple[str, ...] = field(default=("white",), metadata={
        "help": "'white', 'black', 'transparent' (RGBA PNG) or three floats R G B in [0, 1]", "metavar": "BG"})
    backend: Literal["auto", "torch", "gl", "nvdiffrast"] = field(default="auto", metadata={"help": "visibility backend"})
    ssaa: int = field(default=2, metadata={"help": "supersampling factor (anti-aliasing); 1 = off"})
    shading: Literal["auto", "unlit", "diffuse"] = field(default="auto", metadata={
        "help": "unlit base colour, or a headlight Lambert term; auto = diffuse for untextured meshes"})
    save_views: bool = field(default=False, metadata={"help": "also write every view PNG and cameras.json next to the grid"})
    device: str = field(default="auto", metadata={"help": "auto (CUDA when available), cpu or cuda[:i]"})


def register(subparsers) -> None:
    """Add the ``render`` sub-command."""
    parser = subparsers.add_parser(
        "render", help="render assets into the Photo3D 4-view grid",
        description="Render assets into a multi-view grid (default: the Photo3D rig, 2x2, 1024x1024). "
                    "With N views and E elevations the grid has E rows and N columns "
                    "(the rig's 4 views at one elevation keep the 2x2 layout).")
    parser.add_argument("assets", nargs="+", metavar="ASSET", help="mesh files (GLB, glTF, OBJ, PLY, ...)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="a .png path for one asset, a folder for several")
    add_config_arguments(parser, RenderConfig)
    parser.set_defaults(_run=run, _outputs=lambda a: [(a.output, "file" if len(a.assets) == 1 else "dir")])


def parse_background(values: tuple[str, ...]) -> tuple[tuple[float, float, float], bool]:
    """(RGB, transparent) from ``--background`` values."""
    from photo3d.errors import InputError

    if len(values) == 1 and values[0].lower() in BACKGROUND_NAMES:
        return BACKGROUND_NAMES[values[0].lower()], False
    if len(values) == 1 and values[0].lower() == "transparent":
        return (1.0, 1.0, 1.0), True
    try:
        rgb = tuple(float(v) for v in values)
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0.0 <= v <= 1.0 for v in rgb):
        raise InputError(f"--background {' '.join(values)}: want white, black, transparent or three floats in [0, 1]")
    return rgb, False  # type: ignore[return-value]


def grid_shape(views: int, elevations: int) -> tuple[int, int]:
    """(rows, cols) of the grid: the rig's 4 views at one elevation keep 2x2."""
    return (2, 2) if (views, elevations) == (4, 1) else (elevations, views)


def run(args: argparse.Namespace) -> int:
    """Render every asset; return 0, or 1 when some assets failed."""
    from photo3d.errors import InputError

    cfg = config_from_args(RenderConfig, args)
    if cfg.resolution < 8 or cfg.views < 1 or cfg.ssaa < 1 or not cfg.elevations:
        raise InputError("--resolution must be >= 8, --views and --ssaa >= 1, and --elevations non-empty")
    background, transparent = parse_background(cfg.background)
    out = Path(args.output)
    single = len(args.assets) == 1
    if single and out.suffix.lower() != ".png":
        raise InputError(f"-o {out}: with one asset, OUT is the grid image and must end in .png")
    if not single and out.suffix.lower() == ".png":
        raise InputError(f"-o {out}: with {len(args.assets)} assets, OUT is a folder (one PNG per asset)")

    from tqdm import tqdm

    from photo3d.device import resolve_device
    from photo3d.errors import Photo3DError

    resolve_device(cfg.device)  # a device that is not there is one error, not one failure per asset
    failures: list[tuple[str, str]] = []
    targets = [(Path(a), out if single else out / f"{Path(a).stem}.png") for a in args.assets]
    for src, dst in tqdm(targets, desc="render", unit="asset", disable=single or not sys.stderr.isatty()):
        try:
            render_asset_file(src, dst, cfg, background, transparent)
        except Photo3DError as exc:
            if single:
                raise
            failures.append((str(src), str(exc)))
    if failures:
        print(f"photo3d render: {len(failures)} of {len(targets)} assets failed:", file=sys.stderr)
        for src, msg in failures:  # asset errors already name their file
            print(f"  {msg}" if src in msg else f"  {src}: {msg}", file=sys.stderr)
        return 1
    return 0


def render_asset_file(src: Path, dst: Path, cfg: RenderConfig, background, transparent: bool) -> Path:
    """Load ``src``, render the configured grid and write it (plus views/cameras) to ``dst``.

    The grid and its ``_views`` folder are staged and appear together
    (:func:`photo3d.io.output.open_output`), so an interrupted render leaves no partial set.
    """
    import torch

    from photo3d.assets import load_asset
    from photo3d.cameras import ring_cameras
    from photo3d.device import resolve_device
    from photo3d.grid import compose_grid
    from photo3d.io import atomic_write_json, save_image
    from photo3d.io.output import open_output
    from photo3d.render import render_views

    with open_output(dst, "file") as output:
        asset = load_asset(src)
        cams = ring_cameras(cfg.views, cfg.elevations, resolution=cfg.resolution)
        out = render_views(asset, cams, background=background, backend=cfg.backend, ssaa=cfg.ssaa,
                           shading=cfg.shading, device=resolve_device(cfg.device))
        views = torch.cat([out.rgb, out.alpha], 1) if transparent else out.rgb
        views = views.detach().cpu()
        rows, cols = grid_shape(cfg.views, len(cfg.elevations))
        save_image(output.file, compose_grid(views, rows, cols))
        if cfg.save_views:
            view_dir = output.file.with_suffix("")
            view_dir = view_dir.with_name(view_dir.name + "_views")
            for i, img in enumerate(views):
                yaw, pitch = float(cams.yaw_deg[i]), float(cams.pitch_deg[i])
                save_image(view_dir / f"view_{i:02d}_yaw{yaw:05.1f}_pitch{pitch:+05.1f}.png", img)
            meta = cams.to_json()
            meta["render"] = {**asdict(cfg), "asset": str(src)}
            atomic_write_json(view_dir / "cameras.json", meta)
    return dst
