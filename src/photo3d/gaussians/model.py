"""3D Gaussians as a plain container of raw (unconstrained) parameters.

The parameterisation is the one of 3D Gaussian splatting (Kerbl et al. 2023) and of the standard
``.ply`` files, so optimisers work on unconstrained tensors and the activations are fixed:

* ``means``     ``[G, 3]`` world-space centres (TRELLIS frame, Z up; see :mod:`photo3d.cameras`).
* ``log_scales`` ``[G, 3]`` per-axis standard deviations in log space (``scale = exp``).
* ``quats``     ``[G, 4]`` rotations as quaternions **wxyz**, not necessarily normalised.
* ``opacity_logits`` ``[G]`` opacity before the sigmoid.
* ``colors``    ``[G, 3]`` RGB in [0, 1] (spherical harmonics of degree 0, already evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

SH_C0 = 0.28209479177387814  # Y_0^0: rgb = 0.5 + SH_C0 * f_dc


@dataclass
class Gaussians:
    """A set of G 3D Gaussians (raw parameters; see the module docstring).

    Attributes:
        means: ``[G, 3]`` centres.
        log_scales: ``[G, 3]`` log standard deviations.
        quats: ``[G, 4]`` wxyz quaternions (normalised when used).
        opacity_logits: ``[G]`` logits of the opacity.
        colors: ``[G, 3]`` RGB in [0, 1].
    """

    means: torch.Tensor
    log_scales: torch.Tensor
    quats: torch.Tensor
    opacity_logits: torch.Tensor
    colors: torch.Tensor

    def __post_init__(self) -> None:
        g = self.means.shape[0]
        want = {"means": (g, 3), "log_scales": (g, 3), "quats": (g, 4), "opacity_logits": (g,), "colors": (g, 3)}
        for name, shape in want.items():
            got = tuple(getattr(self, name).shape)
            if got != shape:
                raise ValueError(f"Gaussians.{name} has shape {got}, want {shape}")

    def __len__(self) -> int:
        return self.means.shape[0]

    @property
    def scales(self) -> torch.Tensor:
        """``[G, 3]`` standard deviations."""
        return self.log_scales.exp()

    @property
    def opacities(self) -> torch.Tensor:
        """``[G]`` opacities in (0, 1)."""
        return torch.sigmoid(self.opacity_logits)

    @property
    def unit_quats(self) -> torch.Tensor:
        """``[G, 4]`` normalised wxyz quaternions."""
        return torch.nn.functional.normalize(self.quats, dim=-1)

    def map(self, fn) -> Gaussians:
        """Apply ``fn`` to every tensor (e.g. ``lambda t: t.to(device)``)."""
        return Gaussians(**{f.name: fn(getattr(self, f.name)) for f in fields(self)})

    def to(self, *args, **kwargs) -> Gaussians:
        """``torch.Tensor.to`` on every field."""
        return self.map(lambda t: t.to(*args, **kwargs))

    def detach(self) -> Gaussians:
        return self.map(lambda t: t.detach())

    @staticmethod
    def cat(items: list[Gaussians]) -> Gaussians:
        """Concatenate several sets into one."""
        return Gaussians(**{f.name: torch.cat([getattr(g, f.name) for g in items]) for f in fields(Gaussians)})

    @classmethod
    def from_points(cls, points: torch.Tensor, colors: torch.Tensor, scale: float = 0.01,
                    opacity: float = 0.9) -> Gaussians:
        """Isotropic Gaussians at ``points`` ``[G, 3]`` with ``colors`` ``[G, 3]`` in [0, 1]."""
        g = points.shape[0]
        dtype, device = points.dtype, points.device
        quats = torch.zeros(g, 4, dtype=dtype, device=device)
        quats[:, 0] = 1.0
        return cls(
            means=points,
            log_scales=torch.full((g, 3), float(torch.tensor(scale).log()), dtype=dtype, device=device),
            quats=quats,
            opacity_logits=torch.full((g,), float(torch.logit(torch.tensor(opacity))), dtype=dtype, device=device),
            colors=colors.to(dtype),
        )


def quat_to_rotmat(quats: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``[..., 3, 3]`` from wxyz quaternions ``[..., 4]`` (normalised here)."""
    q = torch.nn.functional.normalize(quats, dim=-1)
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(*q.shape[:-1], 3, 3)


def covariance_3d(log_scales: torch.Tensor, quats: torch.Tensor) -> torch.Tensor:
    """World-space covariances ``[G, 3, 3]`` = R S S^T R^T."""
    rs = quat_to_rotmat(quats) * log_scales.exp()[..., None, :]
    return rs @ rs.transpose(-1, -2)
