import pytest
import torch
from eval_helpers import object_views

from photo3d.eval.metrics import EvalItem, build_metrics, is_unavailable
from photo3d.eval.metrics.iqa import iqa_unavailable_reason


def test_clip_without_weights_is_unavailable_not_a_number(tmp_path):
    metrics = build_metrics(["clip_image", "clip_text"], clip_model=str(tmp_path / "no-such-clip"))
    item = EvalItem("x", object_views(0), ["rig"] * 4, reference_image=object_views(0)[0], prompt="a box")
    for m in metrics:
        out = m(item)
        assert is_unavailable(out), out
        assert "CLIP weights" in out["reason"]
        assert m.describe()["status"] == "unavailable"


def test_clip_scores_with_a_tiny_local_model():
    transformers = pytest.importorskip("transformers")
    from photo3d.eval.metrics.clip import ClipScorer

    cfg = transformers.CLIPConfig(
        text_config=dict(
            vocab_size=50,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=16,
        ),
        vision_config=dict(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
        ),
        projection_dim=8,
    )
    model = transformers.CLIPModel(cfg)
    tokenize = lambda texts: {"input_ids": torch.tensor([[1 + len(t) % 40, 2, 3] for t in texts])}  # noqa: E731
    scorer = ClipScorer(model, tokenize, "tiny random CLIP (test)")
    metrics = {m.name: m for m in build_metrics(["clip_image", "clip_text"], clip_scorer=scorer)}
    views = object_views(0)
    same = EvalItem("x", views, ["rig"] * 4, reference_image=views[0], prompt="a box")
    img = metrics["clip_image"](same)
    assert isinstance(img, float) and -1.0 <= img <= 1.0
    exact = EvalItem("x", views[:1], ["rig"], reference_image=views[0])
    assert metrics["clip_image"](exact) == pytest.approx(1.0, abs=1e-5)
    assert isinstance(metrics["clip_text"](same), float)
    assert metrics["clip_image"].model == "tiny random CLIP (test)"
    assert is_unavailable(metrics["clip_text"](EvalItem("y", views, ["rig"] * 4)))  # no prompt


def test_pyiqa_metrics_report_unavailable_without_package_or_weights():
    metrics = build_metrics(["musiq", "maniqa", "nima", "aesthetic"])
    item = EvalItem("x", object_views(0), ["rig"] * 4)
    for m in metrics:
        if iqa_unavailable_reason(m.model.split()[-1]) is None:
            pytest.skip("pyiqa weights are installed here")
        out = m(item)
        assert is_unavailable(out) and "pyiqa" in out["reason"]


def test_unknown_metric_is_a_clear_error():
    from photo3d.errors import InputError

    with pytest.raises(InputError, match="unknown metric"):
        build_metrics(["psnr", "sharpness"])
