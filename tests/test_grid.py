import pytest
import torch

from photo3d.errors import InputError
from photo3d.grid import compose_grid, split_grid, tile


def test_rig_layout_is_row_major():
    views = torch.stack([torch.full((3, 4, 4), float(i)) for i in range(4)])
    grid = compose_grid(views)
    assert grid.shape == (3, 8, 8)
    assert grid[0, 0, 0] == 0 and grid[0, 0, 7] == 1  # top-left yaw 0, top-right yaw 90
    assert grid[0, 7, 0] == 2 and grid[0, 7, 7] == 3  # bottom-left yaw 180, bottom-right 270


@pytest.mark.parametrize("rows,cols", [(2, 2), (1, 4), (3, 2)])
def test_round_trip_is_lossless(rows, cols):
    views = torch.rand(rows * cols, 4, 5, 7)
    assert torch.equal(split_grid(compose_grid(views, rows, cols), rows, cols), views)


def test_errors_are_clear():
    with pytest.raises(InputError, match="do not fill"):
        compose_grid(torch.rand(3, 3, 4, 4))
    with pytest.raises(InputError, match="equal cells"):
        split_grid(torch.rand(3, 5, 8))


def test_tile_pads_the_last_row_and_matches_compose_grid():
    views = torch.rand(4, 3, 2, 2)
    assert torch.equal(tile(views), compose_grid(views))
    out = tile(views[:3], cols=2, pad_value=0.5)
    assert out.shape == (3, 4, 4) and (out[:, 2:, 2:] == 0.5).all()
