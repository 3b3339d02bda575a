"""The optimisation loop: shade the cached views with the current textures, score, Adam step.

Kept apart from file handling so tests and benchmarks drive it directly. The loop owns no I/O:
it returns the history, and a ``KeyboardInterrupt`` raised anywhere inside propagates unchanged
after the progress bar is closed (the caller decides what an interrupted run writes). Every step
is timed by section (:mod:`photo3d.enhance.timing`); the progress bar shows the split, and
``refresh`` (re-registration) runs every ``refresh_every`` steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from photo3d.enhance.level_adam import LevelAdam
from photo3d.enhance.texture import LaplacianTexture
from photo3d.enhance.timing import StepTimer, split_backward
from photo3d.enhance.views import FixedViews

Objective = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]
StepCallback = Callable[[int, dict[str, float]], None]
Refresh = Callable[[int, dict[int, LaplacianTexture]], None]


@dataclass
class LoopResult:
    """What the loop did.

    Attributes:
        history: one dict per step (``step``, ``loss``, the objective's components, ``anchor``,
            ``total``, ``seconds``).
        steps: steps completed.
        seconds: wall time of the loop.
        timing: mean seconds per step by section (render, encoders, matching, registration...).
    """

    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    timing: dict[str, float] = field(default_factory=dict)


def current_textures(params: dict[int, LaplacianTexture], n_materials: int) -> list[torch.Tensor | None]:
    """Per-material texture list for :func:`photo3d.render.shade` (``None`` = keep the mesh's)."""
    return [params[m]() if m in params else None for m in range(n_materials)]


def anchor_l1(params: dict[int, LaplacianTexture], textures: list[torch.Tensor | None] | None = None) -> torch.Tensor:
    """Mean absolute RGB change from the original textures (texel-weighted over materials).

    ``textures`` (from :func:`current_textures`) saves recomputing the pyramids.
    """
    total, count = 0.0, 0
    for m, p in params.items():
        tex = (textures[m] if textures is not None else p())[:3]
        total = total + (tex - p.original[:3]).abs().sum()
        count += tex.numel()
    return total / max(count, 1)


def balanced_backward(main: torch.Tensor, extra: torch.Tensor, weight: float, opt: torch.optim.Optimizer,
                      timer: StepTimer) -> None:
    """Set every parameter's gradient to ``g_main + weight * g_extra * rms(g_main) / rms(g_extra)``.

    ``extra``'s gradient is rescaled, per parameter tensor (pyramid level), to ``weight`` times the
    size of ``main``'s: its share of every update is fixed, however large or noisy its raw
    gradient. Without this a noisy term with large gradients (a feature loss back-propagated
    through a CNN) dominates the normalisation of an adaptive optimiser and slows the main term.
    """
    plist = [p for g in opt.param_groups for p in g["params"]]
    t0 = timer.now()
    g_main = torch.autograd.grad(main, plist, retain_graph=True, allow_unused=True)
    t1 = timer.now()
    g_extra = torch.autograd.grad(extra, plist, allow_unused=True)
    timer.add("render_bwd", t1 - t0)
    timer.add("encoder_bwd", timer.now() - t1)
    for p, gm, ge in zip(plist, g_main, g_extra):
        gm = torch.zeros_like(p) if gm is None else gm
        if ge is not None:
            rm, re = gm.square().mean().sqrt(), ge.square().mean().sqrt()
            gm = gm + weight * ge * (rm / re.clamp_min(1e-20))
        p.grad = gm


def make_optimizer(name: str, params: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """``"level-adam"`` / ``"level-sgd"`` (:class:`~photo3d.enhance.level_adam.LevelAdam`, adaptive or
    not) or ``"adam"`` over ``params``."""
    if name in ("level-adam", "level-sgd"):
        return LevelAdam(params, lr=lr, adaptive=name == "level-adam")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use level-adam, level-sgd or adam")


def view_schedule(n_views: int, per_step: int, steps: int, seed: int = 0,
                  views: Sequence[int] | None = None) -> list[list[int]]:
    """Which views each step uses: shuffled passes over all views, ``per_step`` at a time.

    Every view is used equally often (up to one pass), unlike independent random draws.

    Args:
        n_views: number of reference views.
        per_step: views per step (0 or >= the number of views: all views every step).
        steps: number of steps.
        seed: shuffling seed.
        views: the view indices to draw from (default all; dropped views are left out).

    Returns:
        ``steps`` lists of view indices.
    """
    pool = list(range(n_views)) if views is None else sorted(int(v) for v in views)
    if per_step <= 0 or per_step >= len(pool):
        return [list(pool) for _ in range(steps)]
    gen = torch.Generator().manual_seed(seed)
    order: list[int] = []
    out = []
    for _ in range(steps):
        while len(order) < per_step:
            order += [pool[i] for i in torch.randperm(len(pool), generator=gen).tolist()]
        out.append(sorted(order[:per_step]))
        order = order[per_step:]
    return out


def optimise(
    views: FixedViews,
    params: dict[int, LaplacianTexture],
    targets: torch.Tensor,
    objective: Objective,
    steps: int,
    lr: float = 0.01,
    anchor_weight: float = 0.0,
    views_per_step: int = 0,
    seed: int = 0,
    progress: bool = True,
    on_step: StepCallback | None = None,
    desc: str = "enhance",
    active_views: Sequence[int] | None = None,
    refresh: Refresh | None = None,
    refresh_every: int = 0,
    timer: StepTimer | None = None,
    optimizer: str = "adam",
) -> LoopResult:
    """Optimise the texture parameters so the renders match ``targets`` under ``objective``.

    Args:
        views: cached fragments of the reference cameras.
        params: material index -> texture parameterisation (trained in place).
        targets: ``[N, C, H, W]`` one per camera of ``views``: the reference views in [0, 1]
            (``C = 3``), optionally with extra channels the objective reads (a per-pixel weight).
            ``refresh`` may update it in place.
        objective: ``(pred [n,3,H,W], targets[idx]) -> {"loss": scalar, ...components}``.
        steps: optimiser steps.
        lr: learning rate.
        anchor_weight: weight of :func:`anchor_l1`.
        views_per_step: views per step (0 = all).
        seed: seed of the view schedule.
        progress: show a tqdm bar with ETA and the time split.
        on_step: called after every step with ``(step, record)`` (a ``KeyboardInterrupt`` raised
            there behaves like Ctrl-C).
        desc: label of the progress bar.
        active_views: the views to use (default all; registration drops failed views).
        refresh: called as ``refresh(step, params)`` before steps ``k * refresh_every`` (k >= 1),
            e.g. to re-register the references against the current renders.
        refresh_every: period of ``refresh`` (0 = never).
        timer: where section times are booked (a new one by default).
        optimizer: ``"adam"`` (per texel), ``"level-adam"`` (one second moment per pyramid level,
            :class:`~photo3d.enhance.level_adam.LevelAdam`) or ``"level-sgd"`` (that moment fixed
            after the first step), see :func:`make_optimizer`.

    Returns:
        :class:`LoopResult`.
    """
    from tqdm.auto import tqdm

    result = LoopResult()
    if steps <= 0 or not params:
        return result
    timer = timer or StepTimer(next(iter(params.values())).original.device)
    opt = make_optimizer(optimizer, [p for t in params.values() for p in t.parameters()], lr)
    schedule = view_schedule(len(views), views_per_step, steps, seed, active_views)
    n_mat = views.mesh.num_materials
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=desc, unit="step", disable=not progress, dynamic_ncols=True)
    try:
        for step in bar:
            if refresh is not None and refresh_every > 0 and step > 0 and step % refresh_every == 0:
                with timer.section("registration"):
                    refresh(step, params)
            idx = schedule[step]
            opt.zero_grad(set_to_none=True)
            with timer.section("render_fwd"):
                texs = current_textures(params, n_mat)
                rgb = views.render(texs, idx).rgb
            parts = objective(rgb, targets[idx])
            balanced = parts.pop("balanced", None)
            total = parts["loss"]
            with timer.section("optimizer"):
                anchor = anchor_l1(params, texs) if anchor_weight > 0 else torch.zeros((), device=total.device)
                total = total + anchor_weight * anchor
            if balanced is None:
                split_backward(total, rgb, timer)
            else:
                balanced_backward(balanced[0] + anchor_weight * anchor, balanced[1], balanced[2], opt, timer)
            with timer.section("optimizer"):
                opt.step()
            rec = {"step": step, **{k: float(v.detach()) for k, v in parts.items()},
                   "anchor": float(anchor.detach()), "total": float(total.detach()),
                   "seconds": round(time.perf_counter() - start, 3)}
            result.history.append(rec)
            result.steps = step + 1
            bar.set_postfix_str(f"loss {rec['loss']:.4f} | s/step: {timer.summary(step + 1)}", refresh=False)
            if on_step is not None:
                on_step(step, rec)
    finally:
        bar.close()
        result.seconds = time.perf_counter() - start
        result.timing = timer.per_step(result.steps)
    return result
