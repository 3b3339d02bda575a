"""Resuming a run only with the options it was started with.

A checkpoint stores the options that decide what is trained (:func:`run_options`: the run
options but those marked ``"run_only"``, the paradigm's options and the L_real options). Resuming
compares them with the current ones (:func:`check_resume`): a different ``--lr``, ``--seed`` or
``--width`` is refused with one line listing every difference, because continuing would train
with values that ``config.json`` then claims were used all along. ``--resume-override`` continues
anyway and the differences are recorded in ``config.json`` (``"resume_overrides"``).
"""

from __future__ import annotations

import warnings
from typing import Any

from photo3d.config import changed_options, outcome_options
from photo3d.errors import ConfigError, InputError


def run_options(cfg: Any, record: dict | None = None) -> dict[str, Any]:
    """``{"train": ..., "<paradigm>": ..., "loss": ...}``: what must match when resuming.

    Args:
        cfg: the :class:`~photo3d.train.config.TrainConfig`.
        record: the run's record (``"paradigm"`` names the table holding its options; ``"loss"``).
    """
    out: dict[str, Any] = {"train": outcome_options(cfg)}
    record = record or {}
    paradigm = record.get("paradigm")
    if isinstance(paradigm, str) and isinstance(record.get(paradigm), dict):
        out[paradigm] = record[paradigm]
    if isinstance(record.get("loss"), dict):
        out["loss"] = record["loss"]
    return out


def check_resume(ckpt: dict, options: dict[str, Any], source: str, override: bool = False) -> list[str]:
    """Compare a checkpoint's options with the current ones.

    Checkpoints written before options were stored carry only the run config; then only its keys
    are compared.

    Returns:
        The differences (``"train.lr: 0.0001 -> 0.001"``), recorded by the caller under override.

    Raises:
        ConfigError: differences without ``override`` (one line naming every key).
    """
    saved = ckpt.get("options")
    if not isinstance(saved, dict):
        old = ckpt.get("config") or {}
        saved = {"train": {k: old.get(k, "<unset>") for k in options["train"]}}
        options = {"train": options["train"]}
    changes = changed_options(saved, options)
    if changes and not override:
        raise ConfigError(f"{source}: the run was started with other options ({'; '.join(changes)}); resume "
                          "with the same options, start a new --out, or pass --resume-override to continue "
                          "anyway (recorded in config.json)")
    if changes:
        warnings.warn(f"resuming with changed options (--resume-override): {'; '.join(changes)}", stacklevel=2)
    return changes


def load_module_state(module, state: dict, name: str, source: str) -> None:
    """``module.load_state_dict(state)`` with a mismatch reported as one line (e.g. another ``--width``)."""
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) or first[0] if first else ""
        raise InputError(f"{source}: the checkpoint's {name} does not fit this model ({detail[:200]}); resume with "
                         "the options the run was started with") from exc


def apply_optimizer_options(opt, sched, configured: list[dict]) -> None:
    """After loading a checkpoint's optimizer and schedule, put this run's settings back.

    ``configured`` holds the param-group settings before loading (learning rate as
    ``initial_lr``, weight decay, betas...). Without this, ``--resume-override --lr X`` would
    record ``X`` and train on with the checkpoint's learning rate.
    """
    for group, conf in zip(opt.param_groups, configured):
        for key, value in conf.items():
            if key not in ("lr", "initial_lr"):
                group[key] = value
        group["initial_lr"] = conf.get("initial_lr", conf.get("lr"))
    if hasattr(sched, "base_lrs"):
        sched.base_lrs = [g["initial_lr"] for g in opt.param_groups]
        lambdas = getattr(sched, "lr_lambdas", None)
        for i, group in enumerate(opt.param_groups):
            factor = lambdas[i](sched.last_epoch) if lambdas else 1.0
            group["lr"] = sched.base_lrs[i] * factor
        sched._last_lr = [g["lr"] for g in opt.param_groups]  # what get_last_lr() (the log) reports
