"""L_real: public API, module/function equality, frozen encoders kept out of parameters."""

from __future__ import annotations

import pytest
import torch

from photo3d.encoders import load_encoder
from photo3d.encoders.testing import TinyConvEncoder
from photo3d.losses import RealLoss, RealLossConfig, adapt_loss, match_loss, real_loss


def test_public_api_surface():
    import photo3d.losses as L

    for name in ["RealLoss", "AdaptLoss", "MatchLoss", "adapt_loss", "match_loss", "real_loss",
                 "greedy_assignment", "nn_assignment", "sample_crop_boxes", "RealLossConfig"]:
        assert callable(getattr(L, name)), name


def test_config_module_is_torch_free():
    import subprocess
    import sys

    code = "import sys, photo3d.losses.config; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def enc():
    return TinyConvEncoder()


def test_identical_views_zero_both_rules(enc):
    x = torch.rand(2, 3, 32, 32)
    for rule in ("nn", "greedy"):
        out = RealLoss(enc, enc, match_size=32, match_rule=rule, min_crop=8).components(x, x.clone())
        assert set(out) == {"loss", "adapt", "match"}
        assert float(out["loss"]) == pytest.approx(0.0, abs=1e-5)


def test_module_equals_functions(enc):
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    mod = RealLoss(enc, enc, 0.5, 2.0, n_crops=3, min_crop=8, match_size=24, match_rule="greedy")
    out = mod.components(x, y, generator=torch.Generator().manual_seed(4))
    a = adapt_loss(x, y, enc, n_crops=3, min_crop=8, generator=torch.Generator().manual_seed(4))
    m = match_loss(x, y, enc, size=24, rule="greedy")
    torch.testing.assert_close(out["adapt"], a)
    torch.testing.assert_close(out["match"], m)
    torch.testing.assert_close(out["loss"], 0.5 * a + 2.0 * m)
    fn = real_loss(x, y, enc, enc, lambda_adapt=0.5, lambda_match=2.0, n_crops=3, min_crop=8,
                   match_size=24, match_rule="greedy", generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(fn["loss"], out["loss"])
    torch.testing.assert_close(mod(x, y, generator=torch.Generator().manual_seed(4)), out["loss"])


def test_zero_lambda_skips_term(enc):
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    out = real_loss(x, y, enc, enc, lambda_match=0.0, min_crop=8)
    assert float(out["match"]) == 0.0 and float(out["adapt"]) > 0


def test_encoders_not_leaked_into_parameters():
    clip = load_encoder("tiny-clip")
    dino = load_encoder("tiny-dino")
    mod = RealLoss(clip, dino)
    assert list(mod.parameters()) == [] and mod.state_dict() == {}
    assert all(not p.requires_grad for p in clip.parameters())
    parent = torch.nn.Sequential(torch.nn.Linear(2, 2), mod)
    assert len(list(parent.parameters())) == 2
    parent.train()
    assert not clip.training and not dino.training
    mod.to(torch.float64)  # .to() on the loss reaches the encoders
    assert clip.dtype == torch.float64


def test_from_config_and_presets(enc):
    from photo3d.losses.config import PRESETS

    cfg = RealLossConfig(**PRESETS["texgaussian-code"])
    mod = RealLoss.from_config(cfg, enc, enc)
    assert mod.lambda_adapt == 0.5 and mod.options["n_crops"] == 8
    assert mod.options["crop_scale"] == (0.3, 0.8) and mod.options["match_rule"] == "greedy"
    assert mod.describe()["adapt_encoder"]["name"].startswith("tiny-conv")
    with pytest.raises(ValueError, match="match_rule"):
        RealLossConfig(match_rule="hungarian")
    with pytest.raises(TypeError, match="unknown"):
        RealLoss(enc, enc, n_crop=3)


def test_tiny_hf_encoders_gradients_flow():
    clip, dino = load_encoder("tiny-clip"), load_encoder("tiny-dino")
    x = torch.rand(2, 3, 48, 48, requires_grad=True)
    y = torch.rand(2, 3, 48, 48)
    loss = RealLoss(clip, dino, match_size=32, min_crop=8)(x, y)
    loss.backward()
    assert x.grad.abs().sum() > 0
