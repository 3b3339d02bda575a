"""``build(config)``: the Photo3D-MV builder in one call (what ``photo3d data build`` runs).

Stages, in order (the prompt path, spec 2.1)::

    rewrite -> text_to_image -> matting -> image_to_3d -> render -> edit(+verify) -> [tone] -> write

An ``assets`` source starts at ``render``. ``rewrite`` is left out with ``backend = "none"``
and ``tone`` unless ``tone.mode`` is set. Rerunning the same config resumes: committed stage
results are reused and paid calls are never repeated (see :mod:`photo3d.data.cache`). The output
folder is locked for the whole build (a second build into it stops at once, naming the first),
and a rerun with options that change what is built is refused (:func:`check_options`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photo3d.config import changed_options, outcome_options
from photo3d.data.cache import StageCache
from photo3d.data.config import BuildConfig
from photo3d.data.executors import LocalExecutor, RayExecutor, RunStats, plan
from photo3d.data.sources import Sample, load_source
from photo3d.data.stage import Stage
from photo3d.data.writer import finalize
from photo3d.errors import ConfigError
from photo3d.io import atomic_write_json
from photo3d.io.output import open_output
from photo3d.io.text import expect_object, read_json

OPTIONS = "options.json"  # in OUT/.cache: the options the cache was built with


def make_stages(cfg: BuildConfig) -> list[Stage]:
    """The stage list a config asks for (models are not loaded here)."""
    from photo3d.data.stages_grid import EditStage, RenderStage, ToneStage, WriteStage
    from photo3d.data.stages_prompt import ImageTo3DStage, MattingStage, RewriteStage, TextToImageStage

    from_prompts = cfg.source.kind == "prompts"
    stages: list[Stage] = []
    if from_prompts:
        has_rewrite = cfg.rewrite.backend != "none"
        if has_rewrite:
            stages.append(RewriteStage(cfg.rewrite, cfg.api))
        stages += [TextToImageStage(cfg.text_to_image, cfg.api, has_rewrite), MattingStage(cfg.matting),
                   ImageTo3DStage(cfg.image_to_3d)]
    stages.append(RenderStage(cfg.render, from_prompts))
    stages.append(EditStage(cfg.edit, cfg.verify, cfg.api, None))
    grid_stage = "edit"
    if cfg.tone.mode != "none":
        stages.append(ToneStage(cfg.tone, cfg.verify.white_tolerance))
        grid_stage = "tone"
    stages.append(WriteStage(grid_stage, from_prompts))
    return stages


def secrets_for(cfg: BuildConfig) -> tuple[str, ...]:
    """API key values in use (scrubbed from every failure message)."""
    names = {cfg.api.api_key_env} | {c.api_key_env for c in (cfg.rewrite, cfg.text_to_image, cfg.edit) if c.api_key_env}
    return tuple(v for v in (os.environ.get(n, "") for n in sorted(names)) if v)


@dataclass
class BuildResult:
    """What :func:`build` did."""

    out: Path
    total: int
    stats: RunStats
    finalized: bool

    @property
    def empty(self) -> bool:
        """True when not one sample is complete: the build produced nothing."""
        return self.total > 0 and self.stats.finished == 0

    def summary(self) -> str:
        s = self.stats
        failed = ", ".join(f"{r}={n}" for r, n in sorted(s.failed.items())) or "none"
        return (f"{self.out}: {s.finished}/{self.total} samples complete ({s.skipped} already done), "
                f"failures: {failed}, spend this run: ${s.cost_usd:.2f}")


def build(cfg: BuildConfig, executor: Any = None, samples: list[Sample] | None = None,
          stages: list[Stage] | None = None, on_error: str = "record", resume_override: bool = False) -> BuildResult:
    """Build (or resume) a Photo3D-MV folder.

    Args:
        cfg: the build config.
        executor: a :class:`LocalExecutor` / :class:`RayExecutor` (default: from ``cfg.executor``).
        samples: override the source (tests, custom sources).
        stages: override the stage list (tests, benchmarks).
        on_error: ``"record"`` or ``"raise"`` for unexpected exceptions inside stages.
        resume_override: continue a folder built with other options (see :func:`check_options`).

    Returns:
        :class:`BuildResult`.

    Raises:
        OutputLockedError: another build writes into ``cfg.out``.
        ConfigError: ``cfg.out`` was built with other options.
        InputError: no samples in the source.
    """
    out = Path(cfg.out).resolve()
    with open_output(out, staged=False):  # locked: a second build into OUT stops instead of paying twice
        cache = StageCache(out)
        samples = load_source(cfg.source) if samples is None else samples
        check_options(cache, cfg, resume_override)
        stages = make_stages(cfg) if stages is None else stages
        if executor is None:
            ex = cfg.executor
            executor = (RayExecutor(ex.concurrency, ex.ray_address, on_error=on_error, progress=ex.progress)
                        if ex.kind == "ray" else LocalExecutor(ex.concurrency, on_error, ex.progress))
        todo, stats = plan(stages, samples, cache, cfg.executor.retry_failed)
        if todo:
            stats = executor.run(stages, todo, stats, cache, cfg.seed, secrets_for(cfg), total=len(samples))
        config = cfg.to_dict()
        config.pop("executor")  # how it ran never changes what was built
        finalized = finalize(stages, samples, cache, config)
    return BuildResult(out, len(samples), stats, finalized)


def check_options(cache: StageCache, cfg: BuildConfig, resume_override: bool = False) -> list[str]:
    """Refuse to continue a build whose cache was computed with other settings.

    The options that decide what is built (:func:`photo3d.config.outcome_options`: everything but
    the output folder, ``[api]``, ``[executor]``, ``source.limit``, endpoints and devices) are saved
    in ``OUT/.cache/options.json`` by the first build; a later build into the same folder must
    match them, else cached renders and edits made with the old settings would be mixed with new
    ones. With ``resume_override`` the build goes on and the changes are recorded there.

    Returns:
        The changes (``"render.resolution: 32 -> 64"``); empty for a first or identical build.

    Raises:
        ConfigError: one line listing the changes.
    """
    path = cache.root / OPTIONS
    current = outcome_options(cfg)
    if not path.is_file():
        atomic_write_json(path, {"options": current, "overrides": []})
        return []
    doc = expect_object(read_json(path, "build options file", f"delete {path} to accept the current options"), path)
    changes = changed_options(doc.get("options", {}), current)
    if not changes:
        return []
    if not resume_override:
        raise ConfigError(f"{cache.out}: built before with other options ({'; '.join(changes)}); use the same "
                          "options, build into a new folder, or pass --resume-override to continue anyway "
                          "(recorded in .cache/options.json)")
    warnings.warn(f"continuing {cache.out} with changed options: {'; '.join(changes)}", stacklevel=2)
    doc.setdefault("overrides", []).append({"changes": changes, "options": current})
    atomic_write_json(path, doc)
    return changes
