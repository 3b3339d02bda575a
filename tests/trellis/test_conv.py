"""Submanifold sparse convolution: equals a dense Conv3d at the active sites, per batch element."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from photo3d.trellis.conv import SparseConv3d, neighbour_pairs, submanifold_conv3d
from photo3d.trellis.sparse import SparseTensor


def _random_sparse(batch: int, side: int, channels: int, density: float, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    coords = torch.argwhere(torch.rand(batch, side, side, side, generator=gen) < density).int()
    feats = torch.randn(len(coords), channels, generator=gen, dtype=torch.float64)
    return SparseTensor(coords, feats)


def _dense_reference(x: SparseTensor, weight, bias, side: int):
    c = x.coords.long()
    dense = torch.zeros(x.batch_size, x.feats.shape[1], side, side, side, dtype=x.feats.dtype)
    dense[c[:, 0], :, c[:, 1], c[:, 2], c[:, 3]] = x.feats
    k = weight.shape[1]
    out = F.conv3d(dense, weight.permute(0, 4, 1, 2, 3), bias, padding=k // 2)
    return out[c[:, 0], :, c[:, 1], c[:, 2], c[:, 3]]


@pytest.mark.parametrize("k", [3, 5])
def test_equals_dense_conv3d_masked_at_active_sites(k):
    x = _random_sparse(batch=2, side=10, channels=6, density=0.25)
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(7, k, k, k, 6, generator=gen, dtype=torch.float64)
    b = torch.randn(7, generator=gen, dtype=torch.float64)
    out = submanifold_conv3d(x, w, b)
    assert torch.equal(out.coords, x.coords)  # submanifold: the output voxels are the input voxels
    torch.testing.assert_close(out.feats, _dense_reference(x, w, b, 10), atol=1e-11, rtol=0)


def test_batch_elements_do_not_mix():
    xyz = torch.tensor([[2, 2, 2], [2, 2, 3]], dtype=torch.int32)
    x = SparseTensor.from_batches([xyz[:1], xyz[1:]], [torch.ones(1, 1), torch.ones(1, 1)])
    w = torch.ones(1, 3, 3, 3, 1)
    # each voxel only sees itself: the neighbour at (2, 2, 3) belongs to the other batch element
    assert submanifold_conv3d(x, w).feats.flatten().tolist() == [1.0, 1.0]
    same = SparseTensor.from_batches([xyz], [torch.ones(2, 1)])
    assert submanifold_conv3d(same, w).feats.flatten().tolist() == [2.0, 2.0]


def test_neighbour_pairs_are_cached_and_offsets_complete():
    x = _random_sparse(1, 6, 2, 0.5)
    pairs = neighbour_pairs(x.coords, 3)
    centre = [p for p in pairs if p[0] == 13]
    assert len(centre) == 1 and torch.equal(centre[0][1], centre[0][2])
    for k_index, dst, src in pairs:  # every pair is a real neighbour at offset k_index
        d = (x.coords[src, 1:] - x.coords[dst, 1:]).long()
        want = torch.tensor([k_index // 9 - 1, (k_index // 3) % 3 - 1, k_index % 3 - 1])
        assert (d == want).all()
    conv = SparseConv3d(2, 3)
    conv(x.replace(x.feats.float()))
    assert "subm_pairs_3_1" in x.cache


def test_gradients_match_finite_differences():
    x = _random_sparse(1, 5, 2, 0.4, seed=3)
    feats = x.feats.clone().requires_grad_(True)
    w = torch.randn(3, 3, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f, w, b: submanifold_conv3d(x.replace(f), w, b).feats, (feats, w, b))


def test_module_uses_the_spconv_weight_layout():
    conv = SparseConv3d(4, 5)
    shapes = {k: tuple(v.shape) for k, v in conv.state_dict().items()}
    assert shapes == {"conv.weight": (5, 3, 3, 3, 4), "conv.bias": (5,)}
