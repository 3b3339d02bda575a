"""Standard 3D Gaussian splatting ``.ply`` files (the layout of the original 3DGS code and TRELLIS).

One vertex element with float32 properties ``x y z nx ny nz f_dc_0..2 [f_rest_*] opacity
scale_0..2 rot_0..3``: ``f_dc`` holds the degree-0 SH coefficient (``rgb = 0.5 + C0 * f_dc``),
``opacity`` is a logit, ``scale_*`` are log standard deviations and ``rot_*`` a wxyz quaternion.
Higher-order SH (``f_rest_*``) are ignored on load (photo3d renders SH degree 0) and not written.

**File frame.** TRELLIS's ``Gaussian.save_ply`` does not write its world frame (Z up): it first
applies ``T = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]`` (``x_file = T x``, rotations ``R_file = T R``,
a +90 degree turn about X), and its ``load_ply`` applies ``T^-1``. Our ``frame="trellis"``
(the default of both functions) does the same, so a file TRELLIS wrote loads upright into the
photo3d world frame, a file we write loads upright into TRELLIS, and
``load_ply(save_ply(g)) == g``. ``frame="world"`` reads and writes the coordinates as they are
(files from other 3DGS tools whose frame is already photo3d's). Rotations are turned by
quaternion multiplication (``q_file = q_T * q``), which keeps each quaternion's norm.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from photo3d.errors import AssetError
from photo3d.gaussians.model import SH_C0, Gaussians
from photo3d.io import atomic_write_bytes

_PROPS = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
          "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
_PLY_TYPES = {"float": "f4", "float32": "f4", "double": "f8", "float64": "f8", "uchar": "u1", "uint8": "u1",
              "char": "i1", "int8": "i1", "ushort": "u2", "uint16": "u2", "short": "i2", "int16": "i2",
              "uint": "u4", "uint32": "u4", "int": "i4", "int32": "i4"}
PlyFrame = Literal["trellis", "world"]
# TRELLIS's world -> file rotation T (+90 degrees about X) and its wxyz quaternion.
TRELLIS_FILE_ROTATION = ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0))
_Q_T = (0.5**0.5, 0.5**0.5, 0.0, 0.0)


def _quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``a * b`` of wxyz quaternions (``[4]`` times ``[G, 4]``)."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], -1)


def _to_file_frame(means: torch.Tensor, quats: torch.Tensor, frame: PlyFrame, inverse: bool = False):
    """World -> file coordinates (or back with ``inverse``) for ``frame``; see the module docs."""
    if frame == "world":
        return means, quats
    if frame != "trellis":
        raise ValueError(f"frame must be 'trellis' or 'world', got {frame!r}")
    t = torch.tensor(TRELLIS_FILE_ROTATION, dtype=means.dtype)
    q = torch.tensor(_Q_T, dtype=quats.dtype)
    if inverse:
        return means @ t, _quat_mul(q * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=q.dtype), quats)
    return means @ t.T, _quat_mul(q, quats)


def save_ply(path: str | os.PathLike, gaussians: Gaussians, frame: PlyFrame = "trellis") -> Path:
    """Write ``gaussians`` as a binary little-endian 3DGS ``.ply`` (atomically).

    Args:
        path: destination file.
        gaussians: G Gaussians in the photo3d world frame (any device / dtype; written as float32).
        frame: ``"trellis"`` writes TRELLIS's file frame (as its ``save_ply`` does: readable by
            TRELLIS and by :func:`load_ply`), ``"world"`` the coordinates as they are.

    Returns:
        The path written.
    """
    g = gaussians.detach().to("cpu", torch.float64)
    n = len(g)
    means, quats = _to_file_frame(g.means, g.quats, frame)
    data = np.zeros(n, dtype=[(p, "<f4") for p in _PROPS])
    for i, axis in enumerate("xyz"):
        data[axis] = means[:, i].numpy()
    f_dc = (g.colors - 0.5) / SH_C0
    for i in range(3):
        data[f"f_dc_{i}"] = f_dc[:, i].numpy()
        data[f"scale_{i}"] = g.log_scales[:, i].numpy()
    data["opacity"] = g.opacity_logits.numpy()
    for i in range(4):
        data[f"rot_{i}"] = quats[:, i].numpy()
    header = "ply\nformat binary_little_endian 1.0\n" f"element vertex {n}\n"
    header += "".join(f"property float {p}\n" for p in _PROPS) + "end_header\n"
    buf = io.BytesIO()
    buf.write(header.encode("ascii"))
    buf.write(data.tobytes())
    return atomic_write_bytes(path, buf.getvalue())


def load_ply(path: str | os.PathLike, dtype: torch.dtype = torch.float32,
             frame: PlyFrame = "trellis") -> Gaussians:
    """Read a 3DGS ``.ply`` (binary little/big endian or ASCII) into :class:`Gaussians`.

    Args:
        path: the file.
        dtype: dtype of the returned tensors.
        frame: ``"trellis"`` undoes TRELLIS's file-frame rotation (files written by TRELLIS's
            ``save_ply`` or by :func:`save_ply`), ``"world"`` keeps the file's coordinates.

    Returns:
        The Gaussians in the photo3d world frame (Z up).

    Raises:
        AssetError: the file is missing, not a PLY, or lacks a required property.
    """
    path = Path(path)
    if not path.is_file():
        raise AssetError(f"{path}: no such Gaussian .ply file")
    raw = path.read_bytes()
    end = raw.find(b"end_header")
    if not raw.startswith(b"ply") or end < 0:
        raise AssetError(f"{path}: not a PLY file (no 'ply' magic / 'end_header')")
    body_start = raw.index(b"\n", end) + 1
    lines = raw[:end].decode("ascii", errors="replace").splitlines()
    fmt, count, props, in_vertex, before = None, 0, [], False, 0
    for line in lines:
        tok = line.split()
        if not tok:
            continue
        if tok[0] == "format":
            fmt = tok[1]
        elif tok[0] == "element":
            in_vertex = tok[1] == "vertex"
            if in_vertex:
                count = int(tok[2])
            elif not props:  # an element before the vertices: unsupported layout
                before += 1
        elif tok[0] == "property" and in_vertex:
            if tok[1] == "list":
                raise AssetError(f"{path}: list properties in the vertex element are not a 3DGS layout")
            props.append((tok[2], _PLY_TYPES.get(tok[1], "f4")))
    missing = [p for p in _PROPS if p not in {name for name, _ in props} and not p.startswith("n")]
    if missing or before:
        raise AssetError(f"{path}: not a 3DGS .ply (missing properties {missing or 'vertex element first'})")
    if fmt == "ascii":
        table = np.loadtxt(io.BytesIO(raw[body_start:]), dtype=np.float64, ndmin=2, max_rows=count)
        cols = {name: table[:, i] for i, (name, _) in enumerate(props)}
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        dt = np.dtype([(name, order + t) for name, t in props])
        arr = np.frombuffer(raw, dtype=dt, count=count, offset=body_start)
        cols = {name: arr[name].astype(np.float64) for name, _ in props}

    def stack(names):
        return torch.from_numpy(np.stack([cols[n] for n in names], axis=-1))

    f_dc = stack(["f_dc_0", "f_dc_1", "f_dc_2"]).to(dtype)
    means, quats = _to_file_frame(stack(["x", "y", "z"]), stack(["rot_0", "rot_1", "rot_2", "rot_3"]), frame,
                                  inverse=True)
    return Gaussians(
        means=means.to(dtype),
        log_scales=stack(["scale_0", "scale_1", "scale_2"]).to(dtype),
        quats=quats.to(dtype),
        opacity_logits=torch.from_numpy(cols["opacity"].copy()).to(dtype),
        colors=0.5 + SH_C0 * f_dc,
    )
