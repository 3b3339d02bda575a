"""The Photo3D-MV dataset builder: stages keyed by sample id, executors apart from stages.

Quick use::

    from photo3d.data import load_config, build, status
    result = build(load_config("examples/build_from_assets.toml"))
    print(result.summary(), status(result.out))

Modules: :mod:`~photo3d.data.config` (typed config, TOML/JSON), :mod:`~photo3d.data.sources`
(prompts / asset folders), :mod:`~photo3d.data.stage` (the contract), ``stages_prompt`` /
``stages_grid`` (the stages), :mod:`~photo3d.data.executors` (local threads, Ray),
:mod:`~photo3d.data.cache` (resumable cache), :mod:`~photo3d.data.verify` (structure checks),
:func:`~photo3d.imaging.match_tone` (tone), :mod:`~photo3d.data.clients` (OpenAI-compatible endpoints),
:mod:`~photo3d.data.writer` (layout, manifest, status). Nothing heavy is imported here.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports

_LAZY = {
    "BuildConfig": "photo3d.data.config",
    "load_config": "photo3d.data.config",
    "build": "photo3d.data.builder",
    "make_stages": "photo3d.data.builder",
    "BuildResult": "photo3d.data.builder",
    "status": "photo3d.data.writer",
    "format_status": "photo3d.data.writer",
    "Sample": "photo3d.data.sources",
    "prompt_source": "photo3d.data.sources",
    "asset_source": "photo3d.data.sources",
    "Stage": "photo3d.data.stage",
    "StageFailure": "photo3d.data.stage",
    "StageCache": "photo3d.data.cache",
    "LocalExecutor": "photo3d.data.executors",
    "RayExecutor": "photo3d.data.executors",
    "verify_structure": "photo3d.data.verify",
    "match_tone": "photo3d.imaging.tone",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
