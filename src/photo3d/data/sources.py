"""Sample sources: prompts (DiffusionDB's formats, text, lists) or a folder of assets.

Every source yields :class:`Sample` s in a fixed order. The order defines the integer ids of
Photo3D-MV (``grid_{id}.png``, line ``id`` of ``prompts.txt``): ``id`` = position in the source
after ``offset``/``limit``. The original key (a DiffusionDB id such as ``005695-0057``, an
asset's file stem, or a zero-padded line number) is the sample's cache key and is kept in the
manifest. Keys are unique: an exact duplicate (same key, same prompt) is dropped; a key reused
for a different prompt gets a ``~1``, ``~2`` ... suffix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photo3d.data.layout import ASSET_SUFFIXES
from photo3d.errors import InputError
from photo3d.io.jsonl import read_jsonl
from photo3d.io.text import expect_object, parse_json, read_json, read_text

_KEY_OK = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Sample:
    """One source item.

    Attributes:
        key: unique, filename-safe cache key (the DiffusionDB id, asset stem, or line number).
        index: integer Photo3D-MV id (position in the source).
        prompt: the source prompt (or the asset's name for an assets source).
        asset: path of the asset file (assets source only).
        meta: source facts kept in the manifest (subset, original id field, file name).
    """

    key: str
    index: int
    prompt: str = ""
    asset: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def safe_key(text: str) -> str:
    """Map any string to a filename-safe key (``[A-Za-z0-9._-]``, no leading dot)."""
    key = _KEY_OK.sub("_", str(text).strip()).strip("_") or "sample"
    return "_" + key if key.startswith(".") else key


def read_prompt_records(path: str | Path) -> list[tuple[str | None, str, dict[str, Any]]]:
    """Read a prompt file into ``(key or None, prompt, meta)`` triples, in file order.

    Formats (detected from content, not only the suffix):
      * JSON list of ``{"id", "prompt"}`` (DiffusionDB ids; ImageReward benchmark/test files),
      * JSON list of ``{"text", "image"}`` (ImageReward ReFL data; ``image`` is the DiffusionDB id),
      * JSON list of strings,
      * JSONL of ``{"diffusiondb_id", "subset", "prompt"}`` or any of the objects above,
      * Parquet with ``prompt`` and ``image_name`` / ``id`` columns (DiffusionDB ``metadata.parquet``),
      * plain text: one prompt per line (blank lines skipped; key = line number).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such prompt file")
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    text = read_text(path, "prompt file")
    stripped = text.lstrip()
    if path.suffix.lower() in (".json",) or stripped.startswith("["):
        data = parse_json(text, path)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON list of prompts")
        return [_from_obj(item, path, i) for i, item in enumerate(data)]
    if path.suffix.lower() == ".jsonl" or stripped.startswith("{"):
        return [_from_obj(item, path, i) for i, item in enumerate(read_jsonl(path, torn_tail="error"))]
    return [(None, line.strip(), {}) for line in text.splitlines() if line.strip()]


def _from_obj(item: Any, path: Path, i: int) -> tuple[str | None, str, dict[str, Any]]:
    if isinstance(item, str):
        return None, item.strip(), {}
    if not isinstance(item, dict):
        raise InputError(f"{path}: item {i} is neither a string nor an object")
    prompt = item.get("prompt", item.get("text"))
    if not isinstance(prompt, str):
        raise InputError(f"{path}: item {i} has no 'prompt' or 'text' string")
    key = item.get("diffusiondb_id", item.get("id", item.get("image")))
    meta = {k: item[k] for k in ("subset",) if k in item}
    return (None if key is None else str(key)), prompt.strip(), meta


def _read_parquet(path: Path) -> list[tuple[str | None, str, dict[str, Any]]]:
    from photo3d._optional import require

    pq = require("pyarrow.parquet", "reading parquet prompt files")
    table = pq.read_table(path)
    cols = table.column_names
    if "prompt" not in cols:
        raise InputError(f"{path}: parquet file has no 'prompt' column (columns: {cols})")
    prompts = table.column("prompt").to_pylist()
    key_col = next((c for c in ("image_name", "diffusiondb_id", "id") if c in cols), None)
    keys = table.column(key_col).to_pylist() if key_col else [None] * len(prompts)
    # DiffusionDB image names look like "<uuid>.png"; the stem is the key.
    return [(None if k is None else Path(str(k)).stem, str(p).strip(), {}) for k, p in zip(keys, prompts)]


def prompt_source(prompts: str | Path | Sequence[str], offset: int = 0, limit: int | None = None) -> list[Sample]:
    """Samples from a prompt file (see :func:`read_prompt_records`) or a Python list of strings."""
    if isinstance(prompts, (str, Path)) and not (isinstance(prompts, str) and "\n" in prompts):
        records = read_prompt_records(prompts)
        origin = Path(prompts).name
    else:
        records = [(None, str(p).strip(), {}) for p in prompts]
        origin = "<list>"
    width = max(6, len(str(len(records))))
    samples: list[Sample] = []
    seen: dict[str, str] = {}
    for line, (key, prompt, meta) in enumerate(records):
        if not prompt:
            continue
        base = safe_key(key) if key is not None else f"{line:0{width}d}"
        if seen.get(base) == prompt:
            continue  # the same DiffusionDB prompt listed twice (e.g. in two subsets)
        k, n = base, 0
        while k in seen:
            n += 1
            k = f"{base}~{n}"
        seen[k] = prompt
        samples.append(Sample(key=k, index=-1, prompt=prompt,
                              meta={"file": origin, "original_id": key, **meta}))
    return _reindex(samples[offset:][:limit] if limit is not None else samples[offset:])


def asset_source(folder: str | Path, offset: int = 0, limit: int | None = None,
                 asset_prompts: str | Path | None = None) -> list[Sample]:
    """Samples from a folder of meshes (searched recursively, sorted by relative path).

    The key is the file stem (made unique by its parent folder when stems repeat); the prompt
    is ``asset_prompts[key]`` when a JSON ``{key: prompt}`` file is given, else the stem with
    ``_``/``-`` turned into spaces.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such asset folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in ASSET_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        raise InputError(f"{folder}: no assets ({', '.join(ASSET_SUFFIXES)}) found")
    names: dict[str, str] = {}
    if asset_prompts:
        names = expect_object(read_json(asset_prompts, "asset prompts file"), asset_prompts,
                              "a JSON object {key: prompt}")
    stems = [p.stem for p in files]
    samples = []
    for p in files:
        rel = p.relative_to(folder)
        key = safe_key(p.stem if stems.count(p.stem) == 1 else "_".join(rel.with_suffix("").parts))
        prompt = names.get(key) or names.get(p.stem) or re.sub(r"[_\-]+", " ", p.stem).strip()
        samples.append(Sample(key=key, index=-1, prompt=prompt, asset=str(p), meta={"file": str(rel)}))
    return _reindex(samples[offset:][:limit] if limit is not None else samples[offset:])


def _reindex(samples: Iterable[Sample]) -> list[Sample]:
    out = list(samples)
    for i, s in enumerate(out):
        s.index = i
    return out


def load_source(cfg) -> list[Sample]:
    """Samples for a :class:`~photo3d.data.config.SourceConfig`.

    Raises:
        InputError: no such file or folder, a malformed file, or no sample at all (an empty
            prompts file, an offset past the end): a build of nothing is an error, not a success.
    """
    samples = _load_source(cfg)
    if not samples:
        where = cfg.path if cfg.path else "source.prompts"
        raise InputError(f"{where}: no {'assets' if cfg.kind == 'assets' else 'prompts'} to build"
                         + (f" after source.offset = {cfg.offset}" if cfg.offset else "")
                         + "; check the source file")
    return samples


def _load_source(cfg) -> list[Sample]:
    if cfg.kind == "assets":
        if not cfg.path:
            raise InputError("source.path: an assets source needs a folder")
        return asset_source(cfg.path, cfg.offset, cfg.limit, cfg.asset_prompts)
    if cfg.kind == "prompts":
        if cfg.prompts is not None:
            return prompt_source(list(cfg.prompts), cfg.offset, cfg.limit)
        if not cfg.path:
            raise InputError("source.path: a prompts source needs a file (or give source.prompts = [...])")
        return prompt_source(cfg.path, cfg.offset, cfg.limit)
    raise InputError(f"source.kind: unknown kind {cfg.kind!r}; use 'prompts' or 'assets'")
