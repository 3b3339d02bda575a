"""OpenGL visibility through moderngl on a headless EGL context (Mesa llvmpipe on CPU).

OpenGL draws the triangles with a depth test and writes ``gl_PrimitiveID + 1`` into a 32-bit
integer target; barycentrics and depth are then recomputed in PyTorch from the face ids with the
same formulas as the PyTorch backend (:func:`~photo3d.render.raster_setup.bary_from_face_ids`),
so both backends return identical fragments wherever they pick the same face. They can differ on
pixel centres lying exactly on an edge (GL's own tie rule) and where two faces are within the depth
buffer's precision. GL clips triangles at the near plane instead of skipping them.

Needs ``pip install moderngl`` and the Mesa EGL driver (Debian/Ubuntu:
``apt-get install libegl-mesa0 libgl1-mesa-dri``). :func:`gl_available` probes once per process.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from photo3d._optional import install_hint, is_available, require
from photo3d.errors import MissingDependencyError
from photo3d.render.base import Fragments
from photo3d.render.raster_setup import bary_from_face_ids, clip_matrices, project_vertices, setup_faces

_VERTEX = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
void main() { gl_Position = mvp * vec4(in_pos, 1.0); }
"""
_FRAGMENT = """
#version 330
out int face_id;
void main() { face_id = gl_PrimitiveID + 1; }
"""


@functools.lru_cache(maxsize=1)
def _context():
    """(context, program) created once per process; raises if EGL/GL is unusable."""
    moderngl = require("moderngl", "the OpenGL render backend")
    ctx = moderngl.create_standalone_context(backend="egl")
    prog = ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
    return ctx, prog


@functools.lru_cache(maxsize=1)
def gl_available() -> bool:
    """True when a headless OpenGL 3.3 context can be created (probed once, then cached)."""
    if not is_available("moderngl"):
        return False
    try:
        _context()
    except Exception:  # noqa: BLE001 - any EGL/driver failure means "not available"
        return False
    return True


class GLRasterizer:
    """Visibility with OpenGL (moderngl + EGL); fragments on the CPU."""

    name = "gl"

    def __init__(self) -> None:
        if not gl_available():
            raise MissingDependencyError(
                "the 'gl' render backend needs moderngl and a headless EGL driver "
                f"({install_hint('moderngl')}; apt-get install libegl-mesa0 libgl1-mesa-dri); use --backend torch"
            )

    def rasterize(self, vertices: torch.Tensor, faces: torch.Tensor, c2w: torch.Tensor, K: torch.Tensor,
                  width: int, height: int, near: float = 0.05, far: float = 100.0,
                  orthographic: bool = False) -> Fragments:
        """Visible face per pixel from OpenGL, barycentrics and depth from PyTorch.

        Args:
            vertices: ``[V, 3]`` world positions; faces: ``[F, 3]`` int64.
            c2w: ``[N, 4, 4]``; K: ``[N, 3, 3]``; width, height: image size.
            orthographic: parallel projection (see :mod:`photo3d.render.raster_setup`).

        Returns:
            :class:`Fragments` with ``[N, H, W]`` tensors (on ``vertices.device``).
        """
        import moderngl

        ctx, prog = _context()
        device = vertices.device
        verts = vertices.detach().float().cpu().numpy()
        mvps = clip_matrices(c2w.cpu(), K.cpu(), width, height, near, far, orthographic).float().numpy()
        vbo = ctx.buffer(np.ascontiguousarray(verts, dtype="f4").tobytes())
        ibo = ctx.buffer(np.ascontiguousarray(faces.cpu().numpy(), dtype="i4").tobytes())
        vao = ctx.vertex_array(prog, [(vbo, "3f", "in_pos")], index_buffer=ibo, index_element_size=4)
        color = ctx.renderbuffer((width, height), components=1, dtype="i4")
        depth = ctx.depth_renderbuffer((width, height))
        fbo = ctx.framebuffer(color_attachments=[color], depth_attachment=depth)
        ids = np.empty((len(mvps), height, width), dtype=np.int32)
        try:
            fbo.use()
            ctx.viewport = (0, 0, width, height)
            ctx.enable(moderngl.DEPTH_TEST)
            ctx.disable(moderngl.CULL_FACE)
            for i, mvp in enumerate(mvps):
                fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
                prog["mvp"].write(np.ascontiguousarray(mvp.T).tobytes())  # GL wants column-major
                vao.render(moderngl.TRIANGLES)
                raw = fbo.read(components=1, dtype="i4", attachment=0, alignment=1)
                ids[i] = np.frombuffer(raw, dtype=np.int32).reshape(height, width)
        finally:
            for obj in (vao, vbo, ibo, fbo, color, depth):
                obj.release()
        face_id = torch.from_numpy(ids.astype(np.int64) - 1).to(device)
        with torch.no_grad():
            xy, z = project_vertices(vertices.detach(), c2w.to(device), K.to(device), orthographic)
            fs = setup_faces(xy, z, faces, width, height, near, far, orthographic)
            # GL clips faces that cross the near plane; the PyTorch formulas cannot, so drop them.
            face_id = torch.where(face_id >= 0, face_id, -1)
            bad = ~fs.valid.reshape(len(mvps), -1)
            view = torch.arange(len(mvps), device=device)[:, None, None].expand_as(face_id)
            drop = (face_id >= 0) & bad[view, face_id.clamp_min(0)]
            face_id = torch.where(drop, -1, face_id)
            bary, dep = bary_from_face_ids(fs.params, face_id, faces.shape[0])
        return Fragments(face_id=face_id, bary=bary, depth=dep)
