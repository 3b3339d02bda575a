"""Greedy one-to-one assignment == the released code's repeated-argmax loop, exactly."""

from __future__ import annotations

import pytest
import torch

from photo3d.losses import greedy_assignment, nn_assignment
from photo3d.losses import matching


def naive_greedy(sim: torch.Tensor) -> tuple[list[int], list[int]]:
    """The released loop: min(Np, Ng) times take the flat argmax, then kill its row and column."""
    s = sim.clone().float()
    rows, cols = [], []
    for _ in range(min(s.shape)):
        idx = int(torch.argmax(s))  # first maximum in row-major order
        r, c = divmod(idx, s.shape[1])
        rows.append(r)
        cols.append(c)
        s[r, :] = -1e9
        s[:, c] = -1e9
    return rows, cols


def _assert_same(sim):
    rows, cols = greedy_assignment(sim)
    ref_r, ref_c = naive_greedy(sim)
    assert rows.tolist() == ref_r
    assert cols.tolist() == ref_c


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (12, 12), (9, 23), (23, 9), (40, 31)])
def test_greedy_equals_naive_on_random_floats(shape):
    g = torch.Generator().manual_seed(shape[0] * 100 + shape[1])
    for _ in range(5):
        _assert_same(torch.randn(*shape, generator=g))


@pytest.mark.parametrize("shape", [(10, 10), (6, 17), (17, 6), (48, 48)])
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_greedy_equals_naive_with_ties(shape, levels):
    g = torch.Generator().manual_seed(levels)
    for _ in range(4):
        _assert_same(torch.randint(0, levels, shape, generator=g).float())


def test_greedy_sweep_fallback_matches_naive(monkeypatch):
    # Force the sort-and-sweep path right after the first round, with a tiny chunk size so the
    # chunked filtering is exercised too.
    monkeypatch.setattr(matching, "_MIN_ROUND_GAIN", 1.1)
    monkeypatch.setattr(matching, "_SWEEP_CHUNK", 7)
    g = torch.Generator().manual_seed(3)
    for shape in [(30, 30), (25, 40), (40, 25)]:
        _assert_same(torch.randint(0, 4, shape, generator=g).float())
        _assert_same(torch.randn(*shape, generator=g))


def test_greedy_on_correlated_features_is_one_to_one():
    g = torch.Generator().manual_seed(0)
    f = torch.nn.functional.normalize(torch.randn(300, 16, generator=g) + 2, dim=1)
    t = torch.nn.functional.normalize(torch.randn(200, 16, generator=g) + 2, dim=1)
    sim = f @ t.T
    rows, cols = greedy_assignment(sim)
    assert len(rows) == 200 and len(set(rows.tolist())) == 200 and len(set(cols.tolist())) == 200
    _assert_same(sim)


def test_nn_assignment_is_row_argmax_first_on_ties():
    sim = torch.tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 0.0]])
    rows, cols = nn_assignment(sim)
    assert rows.tolist() == [0, 1]
    assert cols.tolist() == [1, 0]


def test_reference_in_module_matches_test_reference():
    sim = torch.randint(0, 3, (15, 11)).float()
    r, c = matching.greedy_assignment_reference(sim)
    assert (r.tolist(), c.tolist()) == naive_greedy(sim)


def test_bad_shape_raises():
    with pytest.raises(ValueError, match="Np, Ng"):
        greedy_assignment(torch.zeros(3))
