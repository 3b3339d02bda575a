"""Checkpoints are safetensors + JSON: exact round trip of a training state, no pickle."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from photo3d.errors import InputError
from photo3d.train.checkpoint import load_checkpoint, save_checkpoint
from photo3d.train.state import rng_state


def _state():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    model(torch.rand(4, 3)).sum().backward()
    opt.step()
    gen = torch.Generator().manual_seed(7)
    return {"step": 3, "modules": {"flow": model.state_dict()}, "optimizer": opt.state_dict(),
            "rng": [rng_state()], "generators": [{"state": {"generator": gen.get_state()}}],
            "config": {"lr": 1e-3, "name": "x", "inf": math.inf, "tags": ("a", "b"), "none": None}}


def test_round_trip_is_exact_and_needs_no_pickle(tmp_path):
    state = _state()
    path = save_checkpoint(tmp_path / "ckpt" / "step_0000003.safetensors", state)
    assert (tmp_path / "ckpt" / "latest.safetensors").read_bytes() == path.read_bytes()
    back = load_checkpoint(path)
    assert back["step"] == 3 and back["config"]["tags"] == ("a", "b") and back["config"]["inf"] == math.inf
    for k, v in state["modules"]["flow"].items():
        assert torch.equal(back["modules"]["flow"][k], v)
    assert set(back["optimizer"]["state"]) == set(state["optimizer"]["state"])  # integer keys kept
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.99)
    # the RNG states restore: the same draws as before
    np_state = back["rng"][0]["numpy"]
    assert np_state[1].dtype == np.uint32 and np.array_equal(np_state[1], state["rng"][0]["numpy"][1])
    random.setstate(back["rng"][0]["python"])
    np.random.set_state(np_state)
    draws = (random.random(), np.random.rand())
    random.setstate(state["rng"][0]["python"])
    np.random.set_state(state["rng"][0]["numpy"])
    assert draws == (random.random(), np.random.rand())
    gen = torch.Generator()
    gen.set_state(back["generators"][0]["state"]["generator"])
    assert torch.equal(torch.rand(3, generator=gen), torch.rand(3, generator=torch.Generator().manual_seed(7)))


def test_pickled_and_foreign_files_are_refused(tmp_path):
    legacy = tmp_path / "latest.pt"
    torch.save({"step": 1}, legacy)
    with pytest.raises(InputError, match="does not unpickle"):
        load_checkpoint(legacy)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(InputError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")
