"""The in-memory asset: one merged triangle mesh with per-face materials, in the world frame.

Conventions (see :mod:`photo3d.cameras` for the world frame):

* ``uv`` is per vertex, in *image* convention: u to the right, v *down*, (0, 0) is the top-left
  corner of the texture image (glTF's convention; OBJ's v-up coordinates are flipped on load).
  Vertices are split at UV seams, as in glTF.
* Textures are ``H x W x C`` uint8 arrays (C = 3 or 4) holding sRGB values as stored in the file.
  Rendering is unlit, so a render shows base colour x factor x vertex colour.
* Colours and factors are floats in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Material:
    """A glTF-style metallic-roughness material, reduced to what photo3d renders and edits.

    Attributes:
        name: material name from the file.
        base_color_factor: ``[4]`` RGBA multiplier.
        base_color_texture: ``H x W x C`` uint8 texture or ``None``.
        source_index: index of this material in the source file (used to write a new base
            colour back into the same material on export); ``None`` if synthesised.
        extras: anything else the loader keeps for export (other maps, alpha mode, ...).
    """

    name: str = "default"
    base_color_factor: np.ndarray = field(default_factory=lambda: np.ones(4, dtype=np.float32))
    base_color_texture: np.ndarray | None = None
    source_index: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def has_texture(self) -> bool:
        return self.base_color_texture is not None


@dataclass
class Mesh:
    """A triangle mesh with optional UVs / vertex colours and per-face material ids.

    Attributes:
        vertices: ``[V, 3]`` float32 positions (world frame once normalised).
        faces: ``[F, 3]`` int64 vertex indices.
        uv: ``[V, 2]`` float32 texture coordinates (image convention) or ``None``.
        vertex_colors: ``[V, 4]`` float32 RGBA in [0, 1] or ``None``.
        normals: ``[V, 3]`` float32 unit vertex normals or ``None`` (computed on demand).
        face_material: ``[F]`` int64 index into ``materials``.
        materials: at least one material.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray | None = None
    vertex_colors: np.ndarray | None = None
    normals: np.ndarray | None = None
    face_material: np.ndarray | None = None
    materials: list[Material] = field(default_factory=lambda: [Material()])

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float32).reshape(-1, 3)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.int64).reshape(-1, 3)
        if self.face_material is None:
            self.face_material = np.zeros(len(self.faces), dtype=np.int64)
        self.face_material = np.ascontiguousarray(self.face_material, dtype=np.int64).reshape(-1)
        if self.uv is not None:
            self.uv = np.ascontiguousarray(self.uv, dtype=np.float32).reshape(-1, 2)
        if self.vertex_colors is not None:
            self.vertex_colors = np.ascontiguousarray(self.vertex_colors, dtype=np.float32).reshape(-1, 4)

    @property
    def num_vertices(self) -> int:
        return len(self.vertices)

    @property
    def num_faces(self) -> int:
        return len(self.faces)

    @property
    def is_textured(self) -> bool:
        """True when UVs exist and at least one material has a base-colour texture."""
        return self.uv is not None and any(m.has_texture for m in self.materials)

    def bounds(self) -> np.ndarray:
        """``[2, 3]`` axis-aligned bounding box (min, max)."""
        return np.stack([self.vertices.min(0), self.vertices.max(0)])

    def vertex_normals(self) -> np.ndarray:
        """``[V, 3]`` area-weighted unit vertex normals (cached in ``normals``)."""
        if self.normals is None:
            tri = self.vertices[self.faces]
            fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            vn = np.zeros_like(self.vertices)
            for k in range(3):
                np.add.at(vn, self.faces[:, k], fn)
            self.normals = (vn / np.clip(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)
        return self.normals


@dataclass
class Asset:
    """A loaded asset: the merged mesh in the world frame plus where it came from.

    Attributes:
        mesh: the merged mesh, normalised into the world frame.
        source: the file it was read from.
        to_world: ``[4, 4]`` matrix mapping source-file coordinates to the world frame
            (axis change and normalisation); exporters use its inverse to write back.
        meta: loader facts (format, mesh/material counts, warnings).
    """

    mesh: Mesh
    source: Path | None = None
    to_world: np.ndarray = field(default_factory=lambda: np.eye(4))
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.stem if self.source is not None else "asset"
