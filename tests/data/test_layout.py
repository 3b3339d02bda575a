"""The Photo3D-MV layout: what the writer names, the reader finds (builder and bundled manifests)."""

from __future__ import annotations

import shutil

from photo3d.data.layout import (
    ASSET_SUFFIXES,
    MANIFEST,
    find_mesh,
    grid_files,
    natural_key,
    read_layout,
    sample_files,
    write_prompts,
)
from photo3d.io import write_jsonl


def test_writer_paths_are_what_the_reader_finds(mv_tiny, tmp_path):
    root = tmp_path / "mv"
    for i, src in enumerate(["0", "1"]):
        files = sample_files(i)
        (root / files["mesh"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(mv_tiny / "grid_0.png", root / files["grid"])
        shutil.copy(mv_tiny / src / "mesh.obj", root / files["mesh"])
    write_prompts(root, ["a  box", "a bunny"])
    # builder-style rows: files listed under "files"; a failed sample has none
    write_jsonl(root / MANIFEST, [{"id": 0, "status": "ok", "files": sample_files(0)},
                                  {"id": 1, "status": "ok", "files": sample_files(1), "prompt": "rewritten"},
                                  {"id": 2, "status": "failed"}])
    samples = read_layout(root)
    assert [s.id for s in samples] == ["0", "1", "2"]
    assert samples[0].grid == root / "grid_0.png" and samples[0].mesh == root / "0" / "mesh.obj"
    assert samples[0].prompt == "a box"  # whitespace collapsed, line id = id
    assert samples[1].prompt == "rewritten"  # the manifest's prompt wins over prompts.txt
    assert samples[2].grid is None and samples[2].mesh is None


def test_reader_without_manifest_sorts_ids_naturally(tmp_path):
    for sid in ("10", "2", "obj1"):
        (tmp_path / f"grid_{sid}.png").write_bytes(b"")
    (tmp_path / "grids").mkdir()
    (tmp_path / "grids" / "grid_3.png").write_bytes(b"")
    assert [s.id for s in read_layout(tmp_path)] == ["2", "3", "10", "obj1"]
    assert set(grid_files(tmp_path)) == {"10", "2", "obj1"}
    assert sorted(["obj10", "obj2"], key=natural_key) == ["obj2", "obj10"]


def test_one_asset_suffix_list_and_mesh_names(tmp_path):
    assert {".glb", ".gltf", ".obj", ".ply", ".stl", ".off"} == set(ASSET_SUFFIXES)
    (tmp_path / "mesh.glb").write_bytes(b"")
    assert find_mesh(tmp_path).name == "mesh.glb"
    (tmp_path / "mesh.obj").write_bytes(b"")
    assert find_mesh(tmp_path).name == "mesh.obj"  # what the builder writes comes first
