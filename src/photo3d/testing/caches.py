"""Weight caches laid out on disk exactly as their owners write them, without any weights in them.

Offline checks ("are these weights here?") are tested against folders built by these helpers:

* :func:`write_hf_snapshot`: the Hugging Face hub cache (``huggingface_hub`` 0.x-2.x layout):
  ``<cache>/models--<org>--<name>/blobs/<sha256>``, ``snapshots/<commit>/<file>`` as relative
  symlinks to the blobs, and ``refs/main`` holding the commit hash.
* :func:`write_file`: single-file caches such as pyiqa's (``<torch hub dir>/pyiqa/<file>``) and
  OpenAI CLIP's (``~/.cache/clip/<file>``).

File contents are placeholders (a few bytes): the checks look for files, never load them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_hf_snapshot(cache_dir: str | os.PathLike, repo_id: str, files: dict[str, bytes] | list[str],
                      repo_type: str = "model", commit: str | None = None) -> Path:
    """Lay out one cached snapshot of ``repo_id``; returns the snapshot folder.

    Args:
        cache_dir: the hub cache (what ``HF_HUB_CACHE`` points at).
        repo_id: ``"org/name"``.
        files: repository paths (``"unet/config.json"``) and their bytes (a list: placeholder bytes).
        repo_type: ``"model"``, ``"dataset"`` or ``"space"``.
        commit: the 40-hex commit of the snapshot (default: derived from the repo id).
    """
    if isinstance(files, list):
        files = {f: f"placeholder {f}\n".encode() for f in files}
    repo = Path(cache_dir) / f"{repo_type}s--{repo_id.replace('/', '--')}"
    commit = commit or hashlib.sha1(repo_id.encode()).hexdigest()
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot


def write_file(path: str | os.PathLike, data: bytes = b"placeholder\n") -> Path:
    """A placeholder file at ``path`` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
