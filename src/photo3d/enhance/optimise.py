"""The optimisation loop: shade the cached views with the current textures, score, Adam step.

Kept apart from file handling so tests and benchmarks drive it directly. The loop owns no I/O:
it returns the history, and a ``KeyboardInterrupt`` raised anywhere inside propagates unchanged
after the progress bar is closed (the caller decides what an interrupted run writes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from photo3d.enhance.texture import LaplacianTexture
from photo3d.enhance.views import FixedViews

Objective = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]
StepCallback = Callable[[int, dict[str, float]], None]


@dataclass
class LoopResult:
    """What the loop did.

    Attributes:
        history: one dict per step (``step``, ``loss``, the objective's components, ``anchor``,
            ``total``, ``seconds``).
        steps: steps completed.
        seconds: wall time of the loop.
    """

    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0


def current_textures(params: dict[int, LaplacianTexture], n_materials: int) -> list[torch.Tensor | None]:
    """Per-material texture list for :func:`photo3d.render.shade` (``None`` = keep the mesh's)."""
    return [params[m]() if m in params else None for m in range(n_materials)]


def anchor_l1(params: dict[int, LaplacianTexture]) -> torch.Tensor:
    """Mean absolute RGB change from the original textures (texel-weighted over materials)."""
    total, count = 0.0, 0
    for p in params.values():
        tex = p()[:3]
        total = total + (tex - p.original[:3]).abs().sum()
        count += tex.numel()
    return total / max(count, 1)


def view_schedule(n_views: int, per_step: int, steps: int, seed: int = 0) -> list[list[int]]:
    """Which views each step uses: shuffled passes over all views, ``per_step`` at a time.

    Every view is used equally often (up to one pass), unlike independent random draws.

    Args:
        n_views: number of reference views.
        per_step: views per step (0 or >= n_views: all views every step).
        steps: number of steps.
        seed: shuffling seed.

    Returns:
        ``steps`` lists of view indices.
    """
    if per_step <= 0 or per_step >= n_views:
        return [list(range(n_views)) for _ in range(steps)]
    gen = torch.Generator().manual_seed(seed)
    order: list[int] = []
    out = []
    for _ in range(steps):
        while len(order) < per_step:
            order += torch.randperm(n_views, generator=gen).tolist()
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
) -> LoopResult:
    """Optimise the texture parameters so the renders match ``targets`` under ``objective``.

    Args:
        views: cached fragments of the reference cameras.
        params: material index -> texture parameterisation (trained in place).
        targets: ``[N, 3, H, W]`` reference views in [0, 1], one per camera of ``views``.
        objective: ``(pred [n,3,H,W], target [n,3,H,W]) -> {"loss": scalar, ...components}``.
        steps: Adam steps.
        lr: Adam learning rate.
        anchor_weight: weight of :func:`anchor_l1`.
        views_per_step: views per step (0 = all).
        seed: seed of the view schedule.
        progress: show a tqdm bar with ETA.
        on_step: called after every step with ``(step, record)`` (a ``KeyboardInterrupt`` raised
            there behaves like Ctrl-C).
        desc: label of the progress bar.

    Returns:
        :class:`LoopResult`.
    """
    from tqdm.auto import tqdm

    result = LoopResult()
    if steps <= 0 or not params:
        return result
    opt = torch.optim.Adam([p for t in params.values() for p in t.parameters()], lr=lr)
    schedule = view_schedule(len(views), views_per_step, steps, seed)
    n_mat = views.mesh.num_materials
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=desc, unit="step", disable=not progress, dynamic_ncols=True)
    try:
        for step in bar:
            idx = schedule[step]
            opt.zero_grad(set_to_none=True)
            rgb = views.render(current_textures(params, n_mat), idx).rgb
            parts = objective(rgb, targets[idx])
            total = parts["loss"]
            anchor = anchor_l1(params) if anchor_weight > 0 else torch.zeros((), device=total.device)
            total = total + anchor_weight * anchor
            total.backward()
            opt.step()
            rec = {"step": step, **{k: float(v.detach()) for k, v in parts.items()},
                   "anchor": float(anchor.detach()), "total": float(total.detach()),
                   "seconds": round(time.perf_counter() - start, 3)}
            result.history.append(rec)
            result.steps = step + 1
            bar.set_postfix(loss=f"{rec['loss']:.4f}")
            if on_step is not None:
                on_step(step, rec)
    finally:
        bar.close()
        result.seconds = time.perf_counter() - start
    return result
