"""A :class:`~photo3d.assets.mesh.Mesh` as torch tensors on one device, ready to render."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from photo3d.assets.mesh import Mesh
from photo3d.errors import InputError
from photo3d.io.images import texture_to_tensor


@dataclass
class MeshTensors:
    """Torch twin of :class:`~photo3d.assets.mesh.Mesh` (world frame, image-convention UVs).

    Attributes:
        vertices: ``[V, 3]`` float32 positions.
        faces: ``[F, 3]`` int64 vertex indices.
        uv: ``[V, 2]`` float32 texture coordinates (u right, v down, (0, 0) = top-left) or ``None``.
        vertex_colors: ``[V, 4]`` float32 RGBA in [0, 1] or ``None``.
        normals: ``[V, 3]`` float32 unit vertex normals.
        face_material: ``[F]`` int64 material index per face.
        textures: one entry per material: ``[C, H, W]`` float32 in [0, 1] (C = 3 or 4) or ``None``.
        base_color_factors: ``[M, 4]`` float32 RGBA multipliers.
    """

    vertices: torch.Tensor
    faces: torch.Tensor
    uv: torch.Tensor | None
    vertex_colors: torch.Tensor | None
    normals: torch.Tensor
    face_material: torch.Tensor
    textures: list[torch.Tensor | None]
    base_color_factors: torch.Tensor

    @classmethod
    def from_mesh(cls, mesh: Mesh, device: str | torch.device = "cpu") -> MeshTensors:
        """Convert a numpy :class:`Mesh` (textures uint8 ``HxWxC`` -> float ``[C, H, W]``)."""
        if mesh.num_faces == 0:
            raise InputError("cannot render a mesh with no faces")
        if mesh.faces.min() < 0 or mesh.faces.max() >= mesh.num_vertices:
            raise InputError(f"mesh faces index vertices outside [0, {mesh.num_vertices})")

        def t(a: np.ndarray | None, dtype=torch.float32) -> torch.Tensor | None:
            return None if a is None else torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)

        textures = [None if m.base_color_texture is None else texture_to_tensor(m.base_color_texture, device)
                    for m in mesh.materials]
        factors = np.stack([np.asarray(m.base_color_factor, dtype=np.float32).reshape(4) for m in mesh.materials])
        face_material = np.clip(mesh.face_material, 0, len(mesh.materials) - 1)
        return cls(
            vertices=t(mesh.vertices),
            faces=t(mesh.faces, torch.int64),
            uv=t(mesh.uv),
            vertex_colors=t(mesh.vertex_colors),
            normals=t(mesh.vertex_normals()),
            face_material=t(face_material, torch.int64),
            textures=textures,
            base_color_factors=t(factors),
        )

    @property
    def device(self) -> torch.device:
        return self.vertices.device

    @property
    def num_faces(self) -> int:
        return int(self.faces.shape[0])

    @property
    def num_materials(self) -> int:
        return int(self.base_color_factors.shape[0])

    @property
    def is_textured(self) -> bool:
        """True when UVs exist and at least one material has a texture."""
        return self.uv is not None and any(tex is not None for tex in self.textures)

    def to(self, device: str | torch.device) -> MeshTensors:
        """A copy on ``device``."""
        mv = lambda x: None if x is None else x.to(device)
        return replace(self, vertices=mv(self.vertices), faces=mv(self.faces), uv=mv(self.uv),
                       vertex_colors=mv(self.vertex_colors), normals=mv(self.normals),
                       face_material=mv(self.face_material), textures=[mv(x) for x in self.textures],
                       base_color_factors=mv(self.base_color_factors))

