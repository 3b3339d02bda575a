"""From meshes to the network's input: surface points -> ``ocnn`` octree -> "ND" leaf features.

The network frame (written once, here)
    ``p_net = s * A @ p_world`` with ``A: (x, y, z) -> (x, z, -y)``, i.e. the world (TRELLIS, Z up)
    frame turned back into glTF's Y-up axes, the orientation TexGaussian was trained in on
    Objaverse, and that Photo3D's fine-tune reproduced with its y/z swap and z flip. ``s`` is 1
    (``normalize="none"``: world coordinates as they are, no re-centring, as Photo3D's fine-tune
    fed its ±0.5 meshes) or ``1 / max |p|`` (``"unit_sphere"``, as TexGaussian's inference script).
    The octree spans ``[-1, 1]^3`` of this frame. The same frame is used in training and at
    inference, and every output goes back to the world frame, so renders use the rig unchanged.

Each non-empty leaf at depth D becomes one Gaussian at its voxel *centre*
``(ijk + 0.5) * 2 / 2^D - 1`` (the release uses the voxel's lower corner ``ijk * 2 / 2^D - 1``,
half a voxel off; see README). Input features "ND" (ocnn ``get_input_feature``): the leaf's
averaged unit normal (3) and the displacement of the averaged point from the voxel centre
along that normal, in voxel units (1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from photo3d.assets.sampling import sample_surface
from photo3d.errors import AssetError
from photo3d.paradigms.feedforward._ocnn import import_ocnn

# world -> network axes: (x, y, z) -> (x, z, -y); orthonormal, so its inverse is the transpose
WORLD_TO_NET = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
_MARGIN = 1e-3  # ocnn wants points strictly inside [-1, 1]


@dataclass
class OctreeBatch:
    """A batch of meshes as one merged octree plus what is needed to place the Gaussians.

    Attributes:
        octree: the merged ``ocnn.octree.Octree`` (neighbours constructed).
        features: ``[N, 4]`` "ND" leaf features (all objects, object by object).
        centres: ``[N, 3]`` leaf voxel centres in the **world** frame.
        counts: leaves per object (``sum(counts) == N``).
        scales: per object, the network-frame scale ``s``.
        depth: the leaf depth D.
    """

    octree: object
    features: torch.Tensor
    centres: torch.Tensor
    counts: list[int]
    scales: list[float]
    depth: int

    @property
    def voxel_size(self) -> list[float]:
        """World-frame edge of a leaf voxel, per object."""
        return [2.0 / 2**self.depth / s for s in self.scales]


def frame_scale(vertices: np.ndarray, normalize: str) -> float:
    """``s`` of the network frame for a mesh with world-frame ``vertices [V, 3]``."""
    if normalize == "none":
        return 1.0
    if normalize == "unit_sphere":
        radius = float(np.linalg.norm(np.asarray(vertices, np.float64), axis=1).max())
        if not radius > 0:
            raise AssetError("cannot scale a mesh whose vertices are all at the origin")
        return 1.0 / radius
    raise ValueError(f"normalize must be 'none' or 'unit_sphere', got {normalize!r}")


def mesh_points(mesh, n_points: int, normalize: str, seed: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Seeded surface samples of a world-frame mesh in the network frame.

    Returns:
        ``points [n, 3]`` in ``(-1, 1)``, unit ``normals [n, 3]`` (float32) and the scale ``s``.

    Raises:
        AssetError: the mesh leaves the octree's cube (not in the world frame).
    """
    s = frame_scale(mesh.vertices, normalize)
    extent = float(np.abs(np.asarray(mesh.vertices, np.float64)).max()) * s
    if extent > 1.0 + 1e-6:
        raise AssetError(
            f"mesh reaches |x| = {extent:.3g} in the network frame, outside the octree's [-1, 1]: the "
            "feed-forward model expects the world frame (centred, longest side 1); load the asset "
            "with normalisation or use --normalize unit_sphere")
    smp = sample_surface(mesh, n_points, seed)
    pts = np.clip(s * smp.points @ WORLD_TO_NET.T, -1 + _MARGIN, 1 - _MARGIN)
    nrm = smp.normals @ WORLD_TO_NET.T
    return torch.from_numpy(pts.astype(np.float32)), torch.from_numpy(nrm.astype(np.float32)), s


def build_octree_batch(meshes: list, n_points: int, depth: int, full_depth: int, normalize: str = "none",
                       seeds: list[int] | None = None, device: str | torch.device = "cpu") -> OctreeBatch:
    """Sample, voxelise and merge meshes into one octree.

    Args:
        meshes: world-frame meshes (:class:`photo3d.assets.mesh.Mesh`).
        n_points: surface samples per mesh (released: 100k training, 200k inference).
        depth, full_depth: octree depths (released 8, 4).
        normalize: the network frame (module docstring).
        seeds: per-mesh sampling seeds (default ``0, 1, ...``).
        device: where the octree lives.

    Returns:
        :class:`OctreeBatch`.
    """
    ocnn = import_ocnn()
    seeds = list(range(len(meshes))) if seeds is None else list(seeds)
    octrees, scales = [], []
    for mesh, seed in zip(meshes, seeds):
        pts, nrm, s = mesh_points(mesh, n_points, normalize, seed)
        points = ocnn.octree.Points(points=pts.to(device), normals=nrm.to(device))
        octree = ocnn.octree.Octree(depth=depth, full_depth=full_depth, device=device)
        octree.build_octree(points)
        octrees.append(octree)
        scales.append(s)
    if len(octrees) == 1:
        octree = octrees[0]
    else:
        octree = ocnn.octree.Octree.init_like(octrees[0]).merge_octrees(octrees)
    octree.construct_all_neigh()
    counts = [int(o.nnum_nempty[depth]) for o in octrees]
    x, y, z, _ = octree.xyzb(depth, nempty=True)
    ijk = torch.stack([x, y, z], dim=1).to(torch.float64)
    net = (ijk + 0.5) * (2.0 / 2**depth) - 1.0
    per_object = torch.tensor([1.0 / s for s in scales], dtype=torch.float64, device=net.device)
    inv_s = torch.repeat_interleave(per_object, torch.tensor(counts, device=net.device))
    world = (net @ torch.from_numpy(WORLD_TO_NET).to(net)) * inv_s[:, None]  # A^T p for row vectors: p @ A
    features = octree.get_input_feature("ND", nempty=True).float()
    return OctreeBatch(octree, features, world.float(), counts, scales, depth)


def net_to_world_scales(log_scales_net: torch.Tensor, scale: float) -> torch.Tensor:
    """Axis-aligned log std devs from network to world axes: ``(x, y, z)_net = (x, z, -y)_world``."""
    return log_scales_net[:, [0, 2, 1]] - float(np.log(scale))
