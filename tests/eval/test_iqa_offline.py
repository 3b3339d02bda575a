"""The pyiqa metrics' offline check against caches laid out as pyiqa, timm/HF and openai-clip write them.

pyiqa cannot be installed beside this CPU torch (it pulls torchvision), so a stub package with
pyiqa's entry point (``pyiqa.create_metric(metric_name, as_loss=False, device=None, **kwargs)``)
stands in; the file names checked are pyiqa 0.1.16's (``pyiqa/archs/{musiq,maniqa,nima,
laion_aes}_arch.py``: ``default_model_urls`` and the backbones each ``__init__`` creates).
"""

from __future__ import annotations

import sys

import pytest
from eval_helpers import object_views

from photo3d.eval.metrics import EvalItem, build_metrics, is_unavailable
from photo3d.eval.metrics.iqa import IQA_METRICS, iqa_unavailable_reason
from photo3d.testing.caches import write_file, write_hf_snapshot

STUB = '''
CALLS = []


def create_metric(metric_name, as_loss=False, device=None, **kwargs):
    CALLS.append(metric_name)
    raise RuntimeError("stub pyiqa: no network to fetch {}".format(metric_name))
'''
# pyiqa 0.1.16: the heads' file names in chaofengc/IQA-PyTorch-Weights, as cached by load_file_from_url
HEADS = ("musiq_koniq_ckpt-e95806b9.pth", "ckpt_koniq10k.pt", "NIMA_InceptionV2_ava-b0c77c00.pth",
         "sac+logos+ava1-l14-linearMSE.pth")


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """Empty torch hub / HF hub / home folders, and an importable stub pyiqa."""
    import huggingface_hub.constants

    (tmp_path / "site" / "pyiqa").mkdir(parents=True)
    (tmp_path / "site" / "pyiqa" / "__init__.py").write_text(STUB)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # torch.hub.get_dir() = $TORCH_HOME/hub
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # openai-clip: ~/.cache/clip
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    yield tmp_path
    sys.modules.pop("pyiqa", None)  # the stub must not shadow a real pyiqa in later tests


def _heads(root):
    for name in HEADS:
        write_file(root / "torch" / "hub" / "pyiqa" / name)


def _backbones(root):
    write_hf_snapshot(root / "hf", "timm/vit_base_patch8_224.augreg2_in21k_ft_in1k", ["model.safetensors"])
    write_hf_snapshot(root / "hf", "timm/inception_resnet_v2.tf_in1k", ["model.safetensors"])
    write_file(root / "home" / ".cache" / "clip" / "ViT-L-14.pt")


def test_heads_with_their_real_file_names_and_backbones_make_every_metric_available(caches):
    """Before, MANIQA (ckpt_koniq10k.pt) and LAION (sac+logos+...pth) were never found: the check
    looked for *.pth files containing the metric's name."""
    _heads(caches)
    _backbones(caches)
    for name, (pyiqa_name, _, _) in IQA_METRICS.items():
        assert iqa_unavailable_reason(pyiqa_name) is None, name


def test_heads_without_backbones_are_unavailable_naming_the_backbone(caches):
    """Before, NIMA counted as available with its head alone and create_metric then failed."""
    _heads(caches)
    assert iqa_unavailable_reason("musiq") is None  # MUSIQ builds no pretrained backbone
    assert "vit_base_patch8_224" in iqa_unavailable_reason("maniqa")
    assert "inception_resnet_v2" in iqa_unavailable_reason("nima")
    assert "ViT-L-14.pt" in iqa_unavailable_reason("laion_aes")
    assert "ckpt_koniq10k.pt" not in iqa_unavailable_reason("maniqa")  # the head itself was found


def test_a_metric_pyiqa_cannot_create_is_unavailable_not_a_crash(caches):
    _heads(caches)
    _backbones(caches)
    (musiq,) = build_metrics(["musiq"])
    item = EvalItem("x", object_views(0), ["rig"] * 4)
    out = musiq(item)
    assert is_unavailable(out) and "could not create 'musiq'" in out["reason"] and "stub pyiqa" in out["reason"]
    assert is_unavailable(musiq(item))  # later items: the same record, no second attempt


def test_file_names_match_an_installed_pyiqa():
    """Where pyiqa is installed, our table must name the files its archs download."""
    pytest.importorskip("pyiqa.archs")
    from pyiqa.archs import laion_aes_arch, maniqa_arch, musiq_arch, nima_arch

    from photo3d.eval.metrics.iqa import IQA_WEIGHTS

    assert musiq_arch.default_model_urls["koniq10k"].endswith(IQA_WEIGHTS["musiq"].head)
    assert maniqa_arch.default_model_urls["koniq"].endswith(IQA_WEIGHTS["maniqa"].head)
    assert nima_arch.default_model_urls["inception_resnet_v2-ava"].endswith(IQA_WEIGHTS["nima"].head)
    assert laion_aes_arch.default_model_urls["url"].endswith(IQA_WEIGHTS["laion_aes"].head)
