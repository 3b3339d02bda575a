"""The Photo3D-MV layout: one writer, one reader, one list of asset file types.

The layout of ``design.md`` (what the released training code reads) plus the extras photo3d
writes and reads::

    DIR/grid_{id}.png            edited 2x2 grid (read from DIR/ or DIR/grids/)
    DIR/{id}/mesh.obj            the asset in the TRELLIS world frame (readers also take
                                 mesh.glb / mesh.gltf / mesh.ply)
    DIR/{id}/slat.npz            optional TRELLIS structured latents ('feats' [N, 8], 'coords')
    DIR/{id}/gaussians.ply       TRELLIS-built samples: the 3D Gaussians (with slat.npz, no mesh)
    DIR/renders/grid_{id}.png    the unedited render the edit was made from
    DIR/prompts.txt              line id = prompt of integer id (readers also take the only
                                 *prompts*.txt)
    DIR/manifest.jsonl           one row per sample with its "id" (and where its files are)

The dataset builder writes it (:mod:`photo3d.data.writer`, the ``write`` stage); the training
reader (:class:`photo3d.train.dataset.Photo3DMVDataset`) and the evaluation's folder discovery
(:mod:`photo3d.eval.sources`) read it with :func:`read_layout` / :func:`grid_files` /
:func:`find_mesh`. :data:`ASSET_SUFFIXES` is the one list of mesh file types photo3d treats as
assets. Torch-free.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photo3d.io import atomic_write_bytes
from photo3d.io.jsonl import read_jsonl
from photo3d.io.text import read_text

GRID = "grid_{id}.png"
GRID_DIRS = ("", "grids")
RENDER = "renders/grid_{id}.png"
MESH = "{id}/mesh.obj"
MESH_NAMES = ("mesh.obj", "mesh.glb", "mesh.gltf", "mesh.ply")
SLAT = "{id}/slat.npz"
GAUSSIANS = "{id}/gaussians.ply"  # TRELLIS image-to-3D samples: 3D Gaussians (3DGS .ply) instead of a mesh
PROMPTS = "prompts.txt"
MANIFEST = "manifest.jsonl"
# every mesh format load_asset reads (glTF/GLB natively, the rest through trimesh)
ASSET_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")

_GRID_RE = re.compile(r"^grid_(.+)\.png$")


# ---- writing ------------------------------------------------------------------------------------
def sample_files(sample_id: int | str) -> dict[str, str]:
    """Paths (relative to the folder) the writer creates for one sample: ``grid``, ``render``, ``mesh``."""
    return {"grid": GRID.format(id=sample_id), "render": RENDER.format(id=sample_id),
            "mesh": MESH.format(id=sample_id)}


def write_prompts(out: str | Path, prompts: Sequence[str]) -> Path:
    """``prompts.txt``: line ``i`` is the prompt of id ``i`` (whitespace collapsed), atomically."""
    lines = [" ".join(p.split()) for p in prompts]
    return atomic_write_bytes(Path(out) / PROMPTS, ("\n".join(lines) + "\n").encode("utf-8"))


# ---- reading ------------------------------------------------------------------------------------
@dataclass
class MVSample:
    """Where one sample's files are (``None`` when absent).

    Attributes:
        id: the sample id (a string, as in the file names).
        grid: the edited grid file.
        mesh: the asset file in ``{id}/``.
        slat: ``{id}/slat.npz``.
        prompt: the manifest row's prompt, else line ``id`` of the prompts file.
        record: the sample's manifest row (``{}`` without a manifest).
    """

    id: str
    grid: Path | None
    mesh: Path | None
    slat: Path | None
    prompt: str | None
    record: dict[str, Any] = field(default_factory=dict)


def natural_key(sid: str) -> list:
    """Sort key of ids: digit runs compare as numbers (``2`` before ``10``, ``obj2`` before ``obj10``)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", sid)]


def grid_files(folder: str | Path) -> dict[str, Path]:
    """``{id: path}`` of the ``grid_{id}.png`` files directly in ``folder``."""
    return {m.group(1): p for p in Path(folder).glob("grid_*.png") if (m := _GRID_RE.match(p.name))}


def find_mesh(folder: str | Path) -> Path | None:
    """The asset file of a sample folder (``mesh.obj``, else ``.glb``, ``.gltf``, ``.ply``), if any."""
    return next((Path(folder) / n for n in MESH_NAMES if (Path(folder) / n).is_file()), None)


def read_prompts(root: str | Path, prompts_file: str | Path | None = None) -> dict[str, str]:
    """``{id: prompt}`` from ``prompts_file``, else ``prompts.txt`` or the only ``*prompts*.txt``."""
    root = Path(root)
    if prompts_file is None:
        cands = [root / PROMPTS] if (root / PROMPTS).is_file() else sorted(root.glob("*prompts*.txt"))
        prompts_file = cands[0] if len(cands) == 1 else None
    if prompts_file is None:
        return {}
    lines = read_text(prompts_file, "prompts file").splitlines()
    return {str(i): line.strip() for i, line in enumerate(lines)}


def read_layout(root: str | Path, prompts_file: str | Path | None = None) -> list[MVSample]:
    """Every sample of a Photo3D-MV folder, in manifest order (else sorted by id).

    Files are located, not opened: callers check them (and report what is missing).

    Raises:
        InputError: a malformed manifest line (``manifest.jsonl:N: not JSON ...``).
    """
    root = Path(root)
    prompts = read_prompts(root, prompts_file)
    rows = {str(r["id"]): r for r in read_jsonl(root / MANIFEST, torn_tail="error") if "id" in r}
    if rows:
        ids = list(rows)
    else:
        found = {sid for d in GRID_DIRS for sid in grid_files(root / d)}
        ids = sorted(found, key=natural_key)
    samples = []
    for sid in ids:
        rec = rows.get(sid, {})
        listed = rec.get("grid") or (rec.get("files") or {}).get("grid")
        cands = [listed] if listed else []
        cands += [str(Path(d) / GRID.format(id=sid)) for d in GRID_DIRS]
        grid = next((root / c for c in cands if (root / c).is_file()), None)
        slat = root / SLAT.format(id=sid)
        samples.append(MVSample(sid, grid, find_mesh(root / sid), slat if slat.is_file() else None,
                                rec.get("prompt") or prompts.get(sid), rec))
    return samples
