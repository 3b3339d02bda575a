"""3DGS ``.ply`` files in TRELLIS's file frame.

TRELLIS (``trellis/representations/gaussian/gaussian_model.py``, ``Gaussian.save_ply``) writes
``x_file = T x`` and ``R_file = T R`` with ``T = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]`` and reads
with ``T^-1``. The file here is written by hand (numpy + scipy's rotation conversions), not by
``save_ply``, so the test states TRELLIS's convention independently of our code. Before
``load_ply`` undid ``T``, the tall Gaussian below came back lying along -Y (on its side).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from photo3d.gaussians import Gaussians, covariance_3d, load_ply, save_ply

T = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
PROPS = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
         "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


def _trellis_file(path, means_world: np.ndarray, rotations_world: Rotation, log_scales: np.ndarray) -> None:
    """Write what TRELLIS's ``save_ply`` writes for Gaussians given in its world frame (Z up)."""
    xyz = means_world @ T.T
    xyzw = np.atleast_2d((Rotation.from_matrix(T) * rotations_world).as_quat())  # T @ R, scalar last
    wxyz = np.concatenate([xyzw[:, 3:], xyzw[:, :3]], axis=1)
    n = len(xyz)
    data = np.zeros(n, dtype=[(p, "<f4") for p in PROPS])
    for i, axis in enumerate("xyz"):
        data[axis] = xyz[:, i]
    for i in range(3):
        data[f"scale_{i}"] = log_scales[:, i]
    for i in range(4):
        data[f"rot_{i}"] = wxyz[:, i]
    data["opacity"] = 2.0
    header = f"ply\nformat binary_little_endian 1.0\nelement vertex {n}\n"
    header += "".join(f"property float {p}\n" for p in PROPS) + "end_header\n"
    path.write_bytes(header.encode("ascii") + data.tobytes())


def test_trellis_file_loads_upright(tmp_path):
    # one Gaussian at the top of the object, long along world Z (up), tilted 30 deg about Z
    means = np.array([[0.1, 0.2, 0.4]])
    rot = Rotation.from_euler("z", [[30]], degrees=True)  # a stack of one
    log_scales = np.log([[0.01, 0.02, 0.2]])  # the third local axis is the long one
    _trellis_file(tmp_path / "t.ply", means, rot, log_scales)

    g = load_ply(tmp_path / "t.ply", dtype=torch.float64)
    assert torch.allclose(g.means, torch.tensor(means), atol=1e-6)
    cov = covariance_3d(g.log_scales, g.quats)[0].numpy()
    r = rot.as_matrix()[0]
    want = r @ np.diag(np.exp(log_scales[0]) ** 2) @ r.T
    assert np.allclose(cov, want, atol=1e-6)
    assert np.argmax(np.diag(cov)) == 2  # the long axis is world Z: upright, not on its side


def test_save_ply_writes_trellis_frame_and_round_trips(tmp_path):
    gen = torch.Generator().manual_seed(0)
    g = Gaussians(means=torch.rand(20, 3, generator=gen, dtype=torch.float64) - 0.5,
                  log_scales=torch.randn(20, 3, generator=gen, dtype=torch.float64) - 3,
                  quats=torch.randn(20, 4, generator=gen, dtype=torch.float64) * 2,  # not unit: norm kept
                  opacity_logits=torch.randn(20, generator=gen, dtype=torch.float64),
                  colors=torch.rand(20, 3, generator=gen, dtype=torch.float64))
    path = save_ply(tmp_path / "g.ply", g)
    raw = path.read_bytes()
    body = np.frombuffer(raw[raw.index(b"end_header\n") + 11:], dtype=[(p, "<f4") for p in PROPS])
    file_xyz = np.stack([body["x"], body["y"], body["z"]], 1)
    assert np.allclose(file_xyz, g.means.numpy() @ T.T, atol=1e-6)  # what TRELLIS's save_ply writes
    back = load_ply(path, dtype=torch.float64)
    for name in ("means", "log_scales", "quats", "opacity_logits", "colors"):
        assert torch.allclose(getattr(back, name), getattr(g, name), atol=1e-5), name
    raw_world = load_ply(save_ply(tmp_path / "w.ply", g, frame="world"), dtype=torch.float64, frame="world")
    assert torch.allclose(raw_world.means, g.means, atol=1e-6)
    assert torch.allclose(load_ply(path, frame="world", dtype=torch.float64).means,
                          torch.from_numpy(file_xyz).double(), atol=1e-7)
