"""Edge recall: the share of a reference's edges another image keeps."""

from __future__ import annotations

import torch

from photo3d.eval.metrics.structure import edge_fscore, edge_recall


def _square(size: int = 32, lo: int = 8, hi: int = 24) -> torch.Tensor:
    edges = torch.zeros(1, 1, size, size, dtype=torch.bool)
    edges[..., lo, lo:hi] = edges[..., hi, lo:hi] = True
    edges[..., lo:hi + 1, lo] = edges[..., lo:hi + 1, hi] = True
    return edges


def test_added_edges_keep_recall_and_lower_the_fscore():
    ref = _square()
    more = ref.clone()
    more[..., 12:20:2, 10:22] = True  # detail added inside
    assert float(edge_recall(ref, more, 1)) == 1.0
    assert float(edge_fscore(ref, more, 1)) < 0.9
    assert float(edge_recall(more, ref, 1)) < 1.0  # not symmetric


def test_missing_or_moved_edges_lower_recall():
    ref = _square()
    moved = _square(lo=14, hi=30)
    assert float(edge_recall(ref, moved, 1)) < 0.5
    assert float(edge_recall(ref, torch.zeros_like(ref), 1)) == 0.0
    assert float(edge_recall(torch.zeros_like(ref), moved, 1)) == 1.0  # nothing to keep
