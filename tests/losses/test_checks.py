"""Input checks: one-line InputError for malformed views, switchable value checks."""

from __future__ import annotations

import pytest
import torch

from photo3d.encoders.testing import TinyConvEncoder
from photo3d.errors import InputError
from photo3d.losses import adapt_loss, match_loss, set_value_checks
from photo3d.losses.checks import check_views


@pytest.fixture(scope="module")
def enc():
    return TinyConvEncoder()


@pytest.mark.parametrize(
    "pred, target, message",
    [
        (torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 18), "same shape"),
        (torch.rand(3, 16, 16), torch.rand(3, 16, 16), r"\[N, 3, H, W\]"),
        (torch.rand(2, 4, 16, 16), torch.rand(2, 4, 16, 16), r"\[N, 3, H, W\]"),
        (torch.full((1, 3, 8, 8), float("nan")), torch.rand(1, 3, 8, 8), "NaN"),
        (torch.rand(1, 3, 8, 8), torch.full((1, 3, 8, 8), float("inf")), "target contains"),
        (torch.rand(1, 3, 8, 8) * 255, torch.rand(1, 3, 8, 8), r"\[0, 1\]"),
        (torch.rand(1, 3, 8, 8) - 0.5, torch.rand(1, 3, 8, 8), "min -"),
    ],
)
def test_bad_views_raise_one_line(pred, target, message):
    with pytest.raises(InputError, match=message) as info:
        check_views(pred, target)
    assert "\n" not in str(info.value)


def test_small_overshoot_tolerated():
    check_views(torch.full((1, 3, 4, 4), 1.0005), torch.full((1, 3, 4, 4), -0.0005))


def test_value_checks_switchable():
    bad = torch.rand(1, 3, 8, 8) * 2
    prev = set_value_checks(False)
    try:
        check_views(bad, bad)
    finally:
        set_value_checks(prev)
    with pytest.raises(InputError):
        check_views(bad, bad)


def test_loss_level_errors(enc):
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(InputError, match="reduction"):
        adapt_loss(x, x, enc, reduction="avg")
    with pytest.raises(InputError, match="weights"):
        adapt_loss(x, x, enc, weights=torch.ones(3))
    with pytest.raises(InputError, match="rule"):
        match_loss(x, x, enc, size=32, rule="hungarian")
    with pytest.raises(InputError, match="crop scale"):
        adapt_loss(x, x, enc, crop_scale=(0.8, 0.2))
    with pytest.raises(InputError, match="mask"):
        match_loss(x, x, enc, size=32, mask=torch.ones(2, 1, 16, 16))
