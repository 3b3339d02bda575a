import numpy as np
import pytest

from photo3d.eval.bootstrap import bootstrap_ci, bootstrap_indices_ci, paired_difference


def test_ci_contains_mean_and_narrows_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_ci(rng.normal(1.0, 1.0, 20), n_resamples=1000, seed=0)
    large = bootstrap_ci(rng.normal(1.0, 1.0, 500), n_resamples=1000, seed=0)
    for ci in (small, large):
        assert ci["ci_low"] <= ci["value"] <= ci["ci_high"]
    assert (large["ci_high"] - large["ci_low"]) < 0.5 * (small["ci_high"] - small["ci_low"])
    assert large["ci_low"] < 1.0 < large["ci_high"]


def test_seeded_and_nonfinite_values_are_counted():
    vals = [1.0, 2.0, 3.0, float("inf"), 5.0]
    a, b = bootstrap_ci(vals, seed=3), bootstrap_ci(vals, seed=3)
    assert a == b
    assert a["n"] == 4 and a["n_nonfinite"] == 1 and a["value"] == pytest.approx(2.75)
    assert bootstrap_ci([2.0])["ci_low"] is None


def test_paired_difference_detects_a_consistent_gain():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 5, 50)  # large between-item spread ...
    b = a + 0.3 + rng.normal(0, 0.05, 50)  # ... but B is always ~0.3 better
    d = paired_difference(a, b, seed=0)
    assert d["ci_low"] > 0.2 and d["ci_high"] < 0.4


def test_index_bootstrap_of_a_set_statistic():
    x = np.arange(30, dtype=float)
    ci = bootstrap_indices_ci(30, lambda idx: float(x[idx].mean()), n_resamples=300, seed=0)
    assert ci["value"] == pytest.approx(x.mean())
    assert ci["ci_low"] < x.mean() < ci["ci_high"]


def test_zero_resamples_gives_values_without_intervals():
    # `photo3d eval --n-bootstrap 0` used to end in an IndexError (np.quantile of no resamples)
    vals = [1.0, 2.0, 4.0]
    ci = bootstrap_ci(vals, n_resamples=0)
    assert ci["value"] == pytest.approx(7 / 3) and ci["ci_low"] is None and ci["ci_high"] is None
    assert "n_bootstrap = 0" in ci["ci_reason"]
    assert paired_difference(vals, [2.0, 3.0, 5.0], n_resamples=0)["ci_low"] is None
    idx = bootstrap_indices_ci(3, lambda i: float(np.mean(np.asarray(vals)[i])), n_resamples=0)
    assert idx["value"] == pytest.approx(7 / 3) and idx["ci_low"] is None and "ci_reason" in idx


def test_recentred_interval_of_a_biased_set_statistic_contains_the_value():
    """A statistic that resampling with replacement biases upwards (like FID: repeats shrink the
    spread): the plain percentile interval misses the full-sample value, the recentred one does not."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=12)

    def distinct_penalty(idx):  # grows as a resample repeats items, as FID does
        return float(np.mean(x[idx])) + 5.0 * (1.0 - len(np.unique(idx)) / len(idx))

    plain = bootstrap_indices_ci(12, distinct_penalty, n_resamples=400, seed=0)
    fixed = bootstrap_indices_ci(12, distinct_penalty, n_resamples=400, seed=0, recenter=True)
    assert not plain["ci_low"] <= plain["value"] <= plain["ci_high"]
    assert fixed["ci_low"] < fixed["value"] < fixed["ci_high"]
    assert fixed["ci_high"] - fixed["ci_low"] == pytest.approx(plain["ci_high"] - plain["ci_low"])
    few = bootstrap_indices_ci(5, distinct_penalty, n_resamples=50, min_n=10, recenter=True)
    assert few["ci_low"] is None and "too few items" in few["ci_reason"]
