"""The one training loop: batch -> paradigm.step -> L_real -> backward -> clip -> AdamW -> EMA.

Same script from one CPU process to many GPUs: launched by ``torchrun`` it joins the process
group (gloo on CPU, nccl on CUDA), shards the data order by rank, starts from rank 0's weights
and averages gradients with ``all_reduce`` before every optimizer step, so all ranks hold
identical parameters. Only rank 0 writes files.

Exact resume: the data order is a pure function of (seed, step), every random draw comes from a
checkpointed generator or the checkpointed global RNGs, and the checkpoint holds model, EMA,
optimizer, scheduler and step. ``N`` steps and ``N/2`` + resume + ``N/2`` log identical losses.
Resuming with options that change what is trained is refused (:mod:`photo3d.train.resume`).

Rank 0 locks the run folder for the whole run (a second run into it stops at once). A sample whose
files turn out broken while training (a mesh that does not load) is skipped with its reason
(a warning, ``TrainResult.bad_samples``, kept in checkpoints) instead of ending the run.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from tqdm import tqdm

from photo3d.data.layout import GRID
from photo3d.device import resolve_device
from photo3d.errors import Photo3DError
from photo3d.grid import compose_grid
from photo3d.io import atomic_write_json, save_image
from photo3d.io.output import open_output
from photo3d.io.text import read_json
from photo3d.train.checkpoint import LATEST, checkpoint_name, load_checkpoint, save_checkpoint
from photo3d.train.config import TrainConfig
from photo3d.train.resume import apply_optimizer_options, check_resume, load_module_state, run_options
from photo3d.train.state import EMA, JsonlLogger, rng_state, sample_indices, set_rng_state


@dataclass
class TrainResult:
    """What a run produced: per-step records (rank 0's view) and where."""

    out_dir: Path
    records: list[dict] = field(default_factory=list)
    skipped_steps: list[int] = field(default_factory=list)
    bad_samples: dict[str, str] = field(default_factory=dict)  # id -> reason, samples skipped while training


def init_distributed(device: str = "auto") -> tuple[int, int, torch.device]:
    """Join the ``torchrun`` process group if launched by it; returns (rank, world, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    dev = resolve_device(device)  # "auto": cuda:LOCAL_RANK when CUDA is there
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, (dist.get_world_size() if dist.is_initialized() else 1), dev


def train(paradigm, dataset, loss_fn, cfg: TrainConfig, record: dict | None = None,
          on_step: Callable[[int, dict], None] | None = None) -> TrainResult:
    """Fine-tune ``paradigm`` on ``dataset`` with ``loss_fn`` (L_real) for ``cfg.steps`` steps.

    Args:
        paradigm: a :class:`~photo3d.paradigms.base.Paradigm`, its modules on the run's device.
        dataset: indexable samples (:class:`~photo3d.train.dataset.Photo3DMVDataset`).
        loss_fn: ``loss_fn(pred, target)`` -> scalar; if it has ``components(pred, target,
            generator=...)`` returning ``{"loss", "adapt", "match"}`` those are logged.
        cfg: run options; ``cfg.out`` receives config.json, log.jsonl, checkpoints/,
            previews/ and samples/.
        record: extra JSON-able facts for config.json (which encoders and generator ran).
        on_step: called as ``on_step(step, record)`` after every optimizer step (hooks, tests).

    Returns:
        :class:`TrainResult`.
    """
    rank, world, device = init_distributed(cfg.device)
    # only rank 0 writes: it locks the run folder (probed, one run at a time, stale temporaries removed)
    with open_output(cfg.out, staged=False) if rank == 0 else contextlib.nullcontext():
        return _train(paradigm, dataset, loss_fn, cfg, record, on_step, rank, world, device)


def _train(paradigm, dataset, loss_fn, cfg: TrainConfig, record, on_step, rank: int, world: int,
           device: torch.device) -> TrainResult:
    out = Path(cfg.out)
    main = rank == 0
    options = run_options(cfg, record)
    overrides: list[str] = []
    bad_samples: dict[str, str] = {}  # sample id -> why it cannot be used (found while training)
    trainable = paradigm.trainable_modules()
    for mod in paradigm.modules().values():
        mod.requires_grad_(False)
    for mod in trainable.values():
        mod.requires_grad_(True)
    named = {f"{m}.{k}": p for m, mod in trainable.items() for k, p in mod.named_parameters()}
    if world > 1:
        for mod in paradigm.modules().values():
            for t in list(mod.parameters()) + list(mod.buffers()):
                dist.broadcast(t.data, 0)
    groups = [{"params": list(mod.parameters()), "name": m,
               "lr": cfg.decoder_lr if (m == "decoder" and cfg.decoder_lr > 0) else cfg.lr}
              for m, mod in trainable.items()]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=cfg.adam_betas)
    sched = make_scheduler(opt, cfg)
    ema = EMA(named, cfg.ema_decay)
    state = paradigm.init_state(cfg.seed + 1000 * rank)
    loss_gen = torch.Generator().manual_seed(cfg.seed * 31 + 7 + 1000 * rank)
    torch.manual_seed(cfg.seed + rank)
    logger = JsonlLogger(out / "log.jsonl") if main else None
    start = 0
    if cfg.resume:
        ckpt_path = out / "checkpoints" / LATEST if cfg.resume == "auto" else Path(cfg.resume)
        ckpt = load_checkpoint(ckpt_path)
        overrides = check_resume(ckpt, options, str(ckpt_path), cfg.resume_override)
        for m, mod in paradigm.modules().items():
            load_module_state(mod, ckpt["modules"][m], m, str(ckpt_path))
        ema.load_state_dict(ckpt["ema"])
        configured = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        if overrides:  # the checkpoint's optimizer settings would silently win over the new options
            apply_optimizer_options(opt, sched, configured)
        set_rng_state(ckpt["rng"][rank] if rank < len(ckpt["rng"]) else ckpt["rng"][0])
        gens = ckpt["generators"][rank if rank < len(ckpt["generators"]) else 0]
        for k, v in gens["state"].items():
            state[k].set_state(v)
        loss_gen.set_state(gens["loss"])
        bad_samples.update(ckpt.get("data", {}).get("bad_samples", {}))
        start = int(ckpt["step"])
        if logger:
            logger.truncate_after(start)
    if main:
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        doc = {"train": cfg.to_dict(), "world_size": world, **(record or {})}
        if overrides:
            previous = _previous_overrides(out / "config.json")
            doc["resume_overrides"] = previous + [{"step": start, "changes": overrides}]
        atomic_write_json(out / "config.json", doc)
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    result = TrainResult(out)
    components = _components_fn(loss_fn)
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc="train", disable=not main)
    for step in bar:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        parts, bad, empty, views, aux = {}, False, 0, None, {}
        for a in range(cfg.accum):
            idx = sample_indices(len(dataset), step * cfg.accum + a, cfg.batch_size, rank, world, cfg.seed)
            try:
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    views, aux = _step(paradigm, dataset, idx, state, bad_samples)
                if views is None:  # every sample of this micro-batch is unusable
                    empty += 1
                    continue
                comp = components(views.float(), aux["targets"].float(), loss_gen)
                if not torch.isfinite(comp["loss"]):
                    bad = True
                    continue
                (comp["loss"] / cfg.accum).backward()
            except torch.cuda.OutOfMemoryError as exc:
                raise Photo3DError(
                    f"CUDA out of memory at step {step + 1}: lower --resolution (now {cfg.resolution}), "
                    f"--batch-size (now {cfg.batch_size}, or raise --accum), --n-crops or --match-size"
                ) from exc
            for k, v in comp.items():
                parts[k] = parts.get(k, 0.0) + float(v.detach()) / cfg.accum
        empty = empty == cfg.accum
        params = [p for g in groups for p in g["params"]]
        grad_norm = _reduce_and_norm(params, world, device)
        bad = _any_rank(bad or empty or not math.isfinite(grad_norm), world, device)
        rec = {"step": step + 1, **{k: round(v, 8) for k, v in parts.items()}, "lr": sched.get_last_lr()[0]}
        if len(bad_samples) >= len(dataset):
            raise Photo3DError(f"{cfg.data}: every sample failed: " + "; ".join(
                f"{sid}: {why}" for sid, why in list(bad_samples.items())[:3]))
        if bad:
            opt.zero_grad(set_to_none=True)
            rec.update(skipped=True, reason="no usable sample" if empty else "non-finite loss or gradient")
            result.skipped_steps.append(step + 1)
            if main:
                warnings.warn(f"step {step + 1}: {rec['reason']}, step skipped", stacklevel=2)
        else:
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            sched.step()
            ema.update(named)
            rec.update(grad_norm=round(grad_norm, 6),
                       **{k: round(float(v), 6) for k, v in aux.items() if isinstance(v, (int, float))})
        rec["sec"] = round(time.perf_counter() - t0, 4)
        result.records.append(rec)
        if main:
            if (step + 1) % max(1, cfg.log_every) == 0 or bad:
                logger.log(rec)
            bar.set_postfix(loss=rec.get("loss", float("nan")))
            if cfg.preview_every and (step + 1) % cfg.preview_every == 0 and views is not None:
                _save_preview(out / "previews" / f"step_{step + 1:07d}.png", views, aux["targets"])
        if (step + 1) % max(1, cfg.ckpt_every) == 0 or step + 1 == cfg.steps:
            _checkpoint(out, step + 1, paradigm, ema, opt, sched, state, loss_gen, cfg, world, main,
                        options, bad_samples)
        if on_step is not None:
            on_step(step + 1, rec)
    if main and cfg.final_samples:
        _write_samples(paradigm, dataset, out / "samples", cfg)
    if logger:
        logger.close()
    result.bad_samples = dict(bad_samples)
    return result


def make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler:
    """The learning-rate schedule ``cfg.lr_schedule`` names, stepped once per optimizer step.

    ``warmup``: linear from ``lr / warmup_steps`` to each group's lr, then constant.
    ``onecycle``: ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults (start at lr / 25,
    cosine rise over ``warmup_steps`` (at least 2), cosine fall to lr / 25e4 at ``cfg.steps``,
    AdamW beta1 cycled 0.95 -> 0.85 -> 0.95 when ``cycle_momentum``). The TexGaussian release
    uses these defaults with ``pct_start = 10 / total steps``, i.e. ``--warmup-steps 10``.
    """
    if cfg.lr_schedule == "warmup":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, cfg.warmup_steps)))
    if cfg.lr_schedule != "onecycle":
        raise ValueError(f"unknown lr_schedule {cfg.lr_schedule!r}; use warmup or onecycle")
    total = max(3, cfg.steps)  # torch needs both phases at least one step long
    pct = min(max(2, cfg.warmup_steps), total - 1) / total
    return torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=total, pct_start=pct,
        cycle_momentum=cfg.cycle_momentum)


def _step(paradigm, dataset, idx, state, bad_samples: dict[str, str]):
    """``paradigm.step`` on the usable samples at ``idx``; ``(None, {})`` when none is usable.

    A sample whose files cannot be read (a broken mesh, a corrupt grid: a
    :class:`~photo3d.errors.Photo3DError` naming one of its files) is skipped with its reason,
    remembered in ``bad_samples`` (kept in checkpoints, so a resumed run skips it too) and warned
    about once; the step goes on with the rest of the batch.
    """
    batch = []
    for i in idx:
        sid = dataset.samples[i].id if hasattr(dataset, "samples") else str(i)
        if sid in bad_samples:
            continue
        try:
            batch.append(dataset[i])
        except Photo3DError as exc:
            _mark_bad(bad_samples, sid, exc)
    while batch:
        try:
            return paradigm.step(batch, state)
        except Photo3DError as exc:
            culprit = next((b for b in batch if _names_file_of(exc, b)), None)
            if culprit is None:
                raise
            _mark_bad(bad_samples, str(culprit["id"]), exc)
            batch = [b for b in batch if b is not culprit]
    return None, {}


def _names_file_of(exc: Exception, sample: dict) -> bool:
    text = str(exc)
    return any(isinstance(v, (str, os.PathLike)) and str(v) and os.sep in str(v) and str(v) in text
               for v in sample.values())


def _mark_bad(bad_samples: dict[str, str], sid: str, exc: Exception) -> None:
    bad_samples[sid] = str(exc)
    warnings.warn(f"sample {sid} skipped: {exc}", stacklevel=3)


def _previous_overrides(path: Path) -> list:
    try:
        return list(read_json(path).get("resume_overrides", []))
    except (Photo3DError, AttributeError):
        return []


def _components_fn(loss_fn) -> Callable[[torch.Tensor, torch.Tensor, torch.Generator], dict]:
    comp = getattr(loss_fn, "components", None)
    if comp is None:
        return lambda p, t, g: {"loss": loss_fn(p, t)}
    takes_gen = "generator" in inspect.signature(comp).parameters
    return (lambda p, t, g: comp(p, t, generator=g)) if takes_gen else (lambda p, t, g: comp(p, t))


def _reduce_and_norm(params: list[torch.Tensor], world: int, device: torch.device) -> float:
    """Average gradients across ranks (one flat all_reduce); returns the global grad norm."""
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    if world > 1:
        flat = torch.cat([g.reshape(-1) for g in grads]).to(device)
        dist.all_reduce(flat)
        flat /= world
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset:offset + n].view_as(p).to(p.dtype).clone()
            offset += n
        grads = [p.grad for p in params]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])))


def _any_rank(flag: bool, world: int, device: torch.device) -> bool:
    if world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t)
    return bool(t.item() > 0)


def _gather_objects(obj: Any, world: int) -> list[Any]:
    if world == 1:
        return [obj]
    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


def _checkpoint(out, step, paradigm, ema, opt, sched, state, loss_gen, cfg, world, main, options=None,
                bad_samples=None) -> None:
    gens = {"state": {k: v.get_state() for k, v in state.items() if isinstance(v, torch.Generator)},
            "loss": loss_gen.get_state()}
    all_rng = _gather_objects(rng_state(), world)  # every rank's RNGs, so each resumes its own
    all_gens = _gather_objects(gens, world)
    if not main:
        return
    save_checkpoint(out / "checkpoints" / checkpoint_name(step), {
        "step": step,
        "modules": {m: mod.state_dict() for m, mod in paradigm.modules().items()},
        "ema": ema.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": all_rng,
        "generators": all_gens,
        "data": {"micro_step": step * cfg.accum, "seed": cfg.seed, "batch_size": cfg.batch_size, "world": world,
                 "bad_samples": dict(bad_samples or {})},
        "config": cfg.to_dict(),
        "options": options or {},
    })


def _save_preview(path: Path, views: torch.Tensor, targets: torch.Tensor) -> None:
    """Rendered grid of the first sample (left) next to its edited grid (right)."""
    v = views[:4].detach().float().clamp(0, 1).cpu()
    t = targets[:4].detach().float().clamp(0, 1).cpu()
    save_image(path, torch.cat([compose_grid(v), compose_grid(t)], dim=2))


def _write_samples(paradigm, dataset, folder: Path, cfg: TrainConfig) -> None:
    """``samples/grid_{id}.png``: every sample generated from noise and rendered on the rig."""
    for i in range(len(dataset)):
        sample = dataset[i]
        grid = paradigm.sample_grid(sample, cfg.resolution, cfg.sample_steps, cfg.sample_cfg, cfg.seed)
        save_image(folder / GRID.format(id=sample["id"]), grid.float().cpu())
