"""Do the reference views show this asset? Checked before any optimisation.

``enhance`` pulls the texture toward the reference views; a reference of another object, a
mirrored grid, cells in the wrong order or a blank image would be optimised toward just as
willingly. Each reference view is therefore scored against the render of the asset at its camera
with the structure scores of :mod:`photo3d.eval.metrics.structure`: the silhouette IoU with the
dataset builder's thresholds (:class:`photo3d.data.config.VerifyConfig`: IoU >= 0.85), and for the
edges either the builder's edge F-score (>= 0.7) or the *edge recall* -- the share of the render's
edges the reference keeps -- >= :data:`MIN_EDGE_RECALL`.

The recall is there because a reference for ``enhance`` adds detail to a plastic render by design,
and every added edge lowers the F-score's precision; the F-score stays because a photometric edit
(more contrast, clipped highlights) can drop a few weak edges of the render. The views are
compared at :data:`CHECK_VIEW_PX` pixels a side (area-downsampled), where only the structure
remains. Measured on the demo's references (plastic asset vs detailed, drifted reference): the
sugar box keeps 0.97-1.00 of the render's edges (edge F 0.78-0.92) and the text-covered cracker
box 0.95-1.00 (edge F only 0.53-0.80, which the F-score alone rejected); mirrored references keep
0.26-0.86 (edge F 0.16-0.68) and reordered views 0.11-0.42 (edge F 0.09-0.27).

A view that fails is diagnosed: blank (one flat colour, or no object on the white background),
mirrored (its left-right flip scores clearly better), in another view's cell (it matches the
render of another camera), or not this object. The run stops with one line per failed view
(:class:`ReferenceCheckError`) unless ``force`` is set; the scores go in ``record.json`` either
way.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from photo3d.errors import ReferenceMismatchError

CHECK_VIEW_PX = 128  # views are compared at this size (longer side; smaller views as they are)
MIN_EDGE_RECALL = 0.9  # share of the render's edges a reference must keep (see the module docs)
FLAT_STD = 2.0 / 255.0  # a view whose pixels vary less than this is blank
# an alternative explanation (flipped, another camera's view) must nearly pass the thresholds (score /
# threshold, the worse of IoU and edge F) and beat the view's own scores by a margin
NEARLY_PASSES = 0.9
CLEARLY_BETTER = 0.1


class ReferenceCheckError(ReferenceMismatchError):
    """Reference views that do not show the asset (one message line per failed view)."""


@dataclass
class ReferenceCheck:
    """Scores of each reference view against the render of the asset at its camera.

    Attributes:
        views: per view ``{"iou", "edge_f", "edge_recall", "passed", "diagnosis"?}``.
        thresholds: ``{"min_iou", "min_edge_f", "min_edge_recall"}`` used (edges pass on either).
        forced: the run went on although views failed.
    """

    views: list[dict[str, Any]] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    forced: bool = False

    @property
    def passed(self) -> bool:
        return all(v["passed"] for v in self.views)

    @property
    def failed(self) -> list[int]:
        return [i for i, v in enumerate(self.views) if not v["passed"]]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "forced": self.forced, "thresholds": self.thresholds, "views": self.views,
                "scores": "silhouette IoU, edge F-score and edge recall (share of the render's edges the reference "
                          "keeps) of each reference view against the asset's render at its camera; edges pass "
                          "on F-score or recall"}

    def lines(self, source: str, names: list[str]) -> list[str]:
        """One line per failed view, then what to do."""
        t = self.thresholds
        out = []
        for i in self.failed:
            v = self.views[i]
            out.append(f"{source} {names[i]}: silhouette IoU {v['iou']:.2f}, edge F {v['edge_f']:.2f}, edge recall "
                       f"{v['edge_recall']:.2f} against the asset's render: {v['diagnosis']}")
        out.append(f"{len(self.failed)} of {len(self.views)} reference views do not show this asset (needed: "
                   f"IoU >= {t['min_iou']}, and edge F >= {t['min_edge_f']} or edge recall >= "
                   f"{t['min_edge_recall']}); fix the reference, or pass --force to optimise toward it anyway")
        return out


def check_references(renders: torch.Tensor, references: torch.Tensor, verify: Any = None) -> ReferenceCheck:
    """Score and diagnose reference views (see the module docs).

    Args:
        renders: ``[V, 3, H, W]`` renders of the asset at the reference cameras, on white.
        references: ``[V, 3, H, W]`` the reference views, same size, on white (both are
            compared at :data:`CHECK_VIEW_PX`).
        verify: a :class:`~photo3d.data.config.VerifyConfig` (default: the builder's defaults).

    Returns:
        :class:`ReferenceCheck` (not raising: see :func:`require_references`).
    """
    from photo3d.data.config import VerifyConfig
    from photo3d.imaging.resample import resize

    cfg = verify or VerifyConfig()
    h, w = renders.shape[-2:]
    scale = min(1.0, CHECK_VIEW_PX / max(h, w))
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    renders, references = resize(renders.float().cpu(), size), resize(references.float().cpu(), size)
    scores_t = _scores(renders, references, cfg)
    check = ReferenceCheck(thresholds={"min_iou": cfg.min_iou, "min_edge_f": cfg.min_edge_f,
                                       "min_edge_recall": MIN_EDGE_RECALL})
    for i in range(len(renders)):
        scores = {k: round(float(v[i]), 4) for k, v in scores_t.items()}
        passed = _ratio(scores, cfg) >= 1.0
        view = {**scores, "passed": passed}
        if not passed:
            view["diagnosis"] = _diagnose(i, renders, references, scores, cfg)
        check.views.append(view)
    return check


def _scores(renders: torch.Tensor, references: torch.Tensor, cfg) -> dict[str, torch.Tensor]:
    from photo3d.eval.metrics.structure import structure_scores

    return structure_scores(renders, references, cfg.white_tolerance, cfg.edge_tolerance, recall=True)


def require_references(check: ReferenceCheck, source: str, names: list[str], force: bool) -> ReferenceCheck:
    """Raise :class:`ReferenceCheckError` for failed views unless ``force`` (then mark the check forced)."""
    if check.passed:
        return check
    if not force:
        raise ReferenceCheckError("\n".join(check.lines(source, names)))
    check.forced = True
    return check


def verify_references(renders: torch.Tensor, references, source: str, force: bool = False) -> ReferenceCheck:
    """:func:`check_references` with the builder's thresholds, then :func:`require_references`.

    Args:
        renders: ``[V, 3, H, W]`` renders of the asset at the reference cameras, on white.
        references: :class:`~photo3d.enhance.references.References` (views, cameras, kind).
        source: the reference file or folder, for the messages.
        force: go on past failed views (one warning line; the check is marked forced).
    """
    check = require_references(check_references(renders, references.views), source,
                               view_names(references.cameras, references.kind), force)
    if check.forced:
        warnings.warn(f"{len(check.failed)} of {len(check.views)} reference views do not show this asset "
                      "(--force: optimising toward them anyway; scores in record.json)", stacklevel=3)
    return check


def view_names(cameras, kind: str) -> list[str]:
    """``view 2 (yaw 180, bottom-left cell)`` for rig grids, ``view 2 (FILE)`` for folders."""
    cells = ("top-left", "top-right", "bottom-left", "bottom-right")
    names = []
    for i in range(len(cameras)):
        yaw = None if cameras.yaw_deg is None else float(cameras.yaw_deg[i])
        where = f"yaw {yaw:g}" if yaw is not None else f"camera {i}"
        if kind == "grid" and i < len(cells):
            where += f", {cells[i]} cell"
        names.append(f"view {i} ({where})")
    return names


def _diagnose(i: int, renders: torch.Tensor, refs: torch.Tensor, own: dict, cfg) -> str:
    from photo3d.imaging.masks import foreground_mask

    ref = refs[i:i + 1]
    if float(ref.std()) < FLAT_STD:
        return f"blank (one flat colour, {_rgb(ref)}); export the edited views again"
    if not bool(foreground_mask(ref, cfg.white_tolerance).any()):
        return "no object in the view (all white background)"

    def score(candidate: torch.Tensor, render: torch.Tensor) -> float:
        return _ratio({k: float(v[0]) for k, v in _scores(render, candidate, cfg).items()}, cfg)

    base = _ratio(own, cfg)
    flipped = score(ref.flip(-1), renders[i:i + 1])
    others = {j: score(ref, renders[j:j + 1]) for j in range(len(renders)) if j != i}
    best_j = max(others, key=others.get) if others else None
    if _explains(flipped, base) and (best_j is None or flipped >= others[best_j]):
        return "looks mirrored (its left-right flip matches the asset); flip it back"
    if best_j is not None and _explains(others[best_j], base):
        return f"matches the asset's view {best_j} instead: views in the wrong order?"
    if own["iou"] < cfg.min_iou:
        return "the silhouette differs: another object, or moved, rescaled or re-posed"
    return "the edges differ: another object or texture layout, or shifted detail"


def _ratio(scores: dict[str, float], cfg) -> float:
    """How well a view passes: score / threshold of the worse of IoU and edges (>= 1 passes)."""
    edges = max(scores["edge_f"] / cfg.min_edge_f, scores["edge_recall"] / MIN_EDGE_RECALL)
    return min(scores["iou"] / cfg.min_iou, edges)


def _explains(alternative: float, own: float) -> bool:
    """An alternative reading (flipped, another camera) nearly passes and beats the view's own scores."""
    return alternative >= NEARLY_PASSES and alternative > own + CLEARLY_BETTER


def _rgb(view: torch.Tensor) -> str:
    r, g, b = (round(255 * float(c)) for c in view[0].mean((1, 2)))
    return f"RGB {r} {g} {b}"
