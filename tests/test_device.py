"""One device policy for every command."""

from __future__ import annotations

import pytest
import torch

from photo3d.device import resolve_device
from photo3d.errors import InputError


def test_auto_is_cuda_when_available_else_cpu(monkeypatch):
    monkeypatch.setattr("photo3d.device.cuda_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr("photo3d.device.cuda_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert resolve_device("auto") == torch.device("cuda:3")  # torchrun's local rank
    assert resolve_device("auto", local_rank=1) == torch.device("cuda:1")


def test_explicit_devices_are_checked(monkeypatch):
    monkeypatch.setattr("photo3d.device.cuda_available", lambda: False)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(InputError, match="not a torch device"):
        resolve_device("gpu0")
