"""Where evaluation items come from: folders of assets, of grids, and photo3d's own outputs.

A method is a folder. :func:`discover` recognises:

* **enhance** – a ``photo3d enhance`` OUTDIR (``record.json`` + ``grid_after.png``), or a folder
  of such OUTDIRs (one item per sub-folder). It yields *two* methods, ``before`` and ``after``
  (``grid_before.png`` / ``grid_after.png``), both with ``grid_reference.png`` as ground truth,
  and ``enhanced.glb`` for the 3D viewer. Only the rig views are scored (both sides alike).
* **train** – a ``photo3d train`` output folder (``config.json`` + ``samples/grid_{id}.png``).
* **grids** – ``grid_{id}.png`` files (2x2 rig layout), split into 4 views.
* **assets** – mesh files (:data:`photo3d.data.layout.ASSET_SUFFIXES`: ``.glb``, ``.gltf``, ``.obj``,
  ``.ply``, ``.stl``, ``.off``) or Photo3D-MV ``{id}/mesh.*`` folders, rendered with the suite's
  cameras (rig, plus held-out views).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from photo3d.cameras import Cameras, heldout_cameras, rig_cameras
from photo3d.data.layout import ASSET_SUFFIXES, GRID, find_mesh, grid_files, natural_key
from photo3d.errors import InputError
from photo3d.eval.metrics.base import EvalItem
from photo3d.eval.suite import Suite
from photo3d.grid import split_grid
from photo3d.io import load_image

RIG_NAMES = ["rig_yaw0", "rig_yaw90", "rig_yaw180", "rig_yaw270"]


@dataclass
class MethodSource:
    """One method's items.

    Attributes:
        name: method name in the results.
        kind: ``"enhance"``, ``"train"``, ``"grids"`` or ``"assets"``.
        root: the folder given by the user.
        files: item id -> the file (grid or asset) that holds it.
        gt: item id -> ground-truth grid provided by the source itself (enhance), if any.
        glbs: item id -> GLB to show in the report, if any.
    """

    name: str
    kind: str
    root: Path
    files: dict[str, Path]
    gt: dict[str, Path] = field(default_factory=dict)
    glbs: dict[str, Path] = field(default_factory=dict)

    def ids(self) -> list[str]:
        return sorted(self.files, key=natural_key)

    def describe(self) -> dict:
        return {"kind": self.kind, "root": str(self.root), "n_items": len(self.files)}

    def load(self, item_id: str, suite: Suite) -> EvalItem:
        """The views of ``item_id`` (grid split, or assets rendered with the suite's cameras)."""
        path = self.files[item_id]
        glb = self.glbs.get(item_id)
        if self.kind == "assets":
            item = render_asset(item_id, path, suite)
        else:
            views = split_grid(load_image(path, background=suite.background))
            item = EvalItem(item_id, views, list(RIG_NAMES[: len(views)]))
        if item_id in self.gt:
            item.gt_views = split_grid(load_image(self.gt[item_id], background=suite.background))
        item.glb = str(glb) if glb else item.glb
        return item


def render_asset(item_id: str, path: Path, suite: Suite) -> EvalItem:
    """Render an asset with the rig (and held-out views when the suite asks for them)."""
    from photo3d.assets import load_asset
    from photo3d.render import render_views

    cams = rig_cameras(suite.resolution)
    names = list(RIG_NAMES)
    if suite.cameras == "rig+heldout":
        held = heldout_cameras(suite.resolution)
        names += [f"heldout_yaw{int(y)}_pitch{int(p)}" for y, p in zip(held.yaw_deg, held.pitch_deg)]
        cams = Cameras.cat([cams, held])
    out = render_views(load_asset(path), cams, background=tuple(suite.background))
    return EvalItem(
        item_id,
        out.rgb.detach().float().clamp(0, 1),
        names,
        alpha=out.alpha.detach().float(),
        glb=str(path) if path.suffix.lower() == ".glb" else None,
    )


def _is_enhance_dir(p: Path) -> bool:
    return (p / "grid_after.png").is_file() and (p / "grid_before.png").is_file()


def discover(path: str | Path, name: str | None = None) -> list[MethodSource]:
    """Recognise a method folder; enhance outputs give two methods (``before``, ``after``).

    Args:
        path: the folder.
        name: method name (default: the folder name; enhance: ``before``/``after``).
    """
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: no such folder")
    enhance_dirs = (
        [root]
        if _is_enhance_dir(root)
        else (
            sorted(
                (d for d in root.iterdir() if d.is_dir() and _is_enhance_dir(d)),
                key=lambda d: natural_key(d.name),
            )
            if root.is_dir()
            else []
        )
    )
    if enhance_dirs:
        single = enhance_dirs == [root]
        key = (lambda d: d.name) if not single else (lambda d: d.resolve().name)
        gt = {key(d): d / "grid_reference.png" for d in enhance_dirs if (d / "grid_reference.png").is_file()}
        glb = {key(d): d / "enhanced.glb" for d in enhance_dirs if (d / "enhanced.glb").is_file()}
        prefix = f"{name}:" if name else ""
        return [
            MethodSource(
                f"{prefix}before", "enhance", root, {key(d): d / "grid_before.png" for d in enhance_dirs}, gt
            ),
            MethodSource(
                f"{prefix}after",
                "enhance",
                root,
                {key(d): d / "grid_after.png" for d in enhance_dirs},
                gt,
                glb,
            ),
        ]
    name = name or root.resolve().name
    if root.is_dir() and (root / "samples").is_dir() and (root / "config.json").is_file():
        return [
            MethodSource(name, "train", root, grid_files(root / "samples"), glbs=_glbs_in(root / "samples"))
        ]
    grids = grid_files(root) if root.is_dir() else {}
    if grids:
        return [MethodSource(name, "grids", root, grids, glbs=_glbs_in(root))]
    assets = _assets_in(root)
    if assets:
        return [MethodSource(name, "assets", root, assets)]
    raise InputError(
        f"{root}: found no photo3d enhance/train output, grid_*.png files or 3D assets "
        f"({', '.join(ASSET_SUFFIXES)}) to evaluate"
    )


def _glbs_in(folder: Path) -> dict[str, Path]:
    out = {}
    for item_id in grid_files(folder):
        for cand in (folder / f"{item_id}.glb", folder / item_id / "mesh.glb"):
            if cand.is_file():
                out[item_id] = cand
                break
    return out


def _assets_in(root: Path) -> dict[str, Path]:
    if root.is_file():
        return {root.stem: root} if root.suffix.lower() in ASSET_SUFFIXES else {}
    out = {p.stem: p for p in root.iterdir() if p.is_file() and p.suffix.lower() in ASSET_SUFFIXES}
    for d in root.iterdir():
        if d.is_dir() and (mesh := find_mesh(d)) is not None:
            out.setdefault(d.name, mesh)
    return out


def reference_grid(suite: Suite, item_id: str) -> Path | None:
    """The suite's ground-truth grid for ``item_id`` (``grid_{id}.png`` or ``{id}.png``), if any."""
    if not suite.references:
        return None
    for cand in (Path(suite.references) / GRID.format(id=item_id), Path(suite.references) / f"{item_id}.png"):
        if cand.is_file():
            return cand
    return None


def reference_image(suite: Suite, item_id: str) -> Path | None:
    """The suite's input image for ``item_id`` (``{id}.png``/``.jpg``), if any."""
    if not suite.reference_images:
        return None
    for ext in (".png", ".jpg", ".jpeg", ".webp"):
        cand = Path(suite.reference_images) / f"{item_id}{ext}"
        if cand.is_file():
            return cand
    return None
