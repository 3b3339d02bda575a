"""Fixtures of the multi-view diffusion tests: a colour cube, the tiny random model and strategy."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")


def colour_cube(size: float = 0.6, yaw_deg: float = 30.0):
    """A cube (world frame) whose sides carry distinct smooth vertex-colour gradients, turned about Z."""
    from photo3d.assets.mesh import Mesh

    verts, faces, cols = [], [], []
    for axis in range(3):
        for sign in (1.0, -1.0):
            a, b = [d for d in range(3) if d != axis]
            base = len(verts)
            for ca, cb in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = np.zeros(3)
                p[axis], p[a], p[b] = sign * size / 2, ca * size / 2, cb * size / 2
                verts.append(p)
                c = np.full(3, 0.2)
                c[axis] = 0.9 if sign > 0 else 0.5
                c[a] += 0.3 * (ca + 1) / 2
                cols.append([*np.clip(c, 0, 1), 1.0])
            quad = [[base, base + 1, base + 2], [base, base + 2, base + 3]]
            # outward normals: (a, b, axis) is right-handed for the first axis of each pair
            flip = (sign < 0) != (axis == 1)
            faces += [f[::-1] for f in quad] if flip else quad
    t = np.radians(yaw_deg)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    return Mesh(np.array(verts) @ rot.T, np.array(faces), vertex_colors=np.array(cols))


@pytest.fixture
def cube():
    return colour_cube()


@pytest.fixture
def tiny():
    """A fresh tiny random multi-view model (seeded)."""
    from photo3d.paradigms.mvdiffusion.model import tiny_model

    return tiny_model(seed=0)


@pytest.fixture
def make_strategy():
    """``make_strategy(resolution=64, **config)``: a tiny strategy (seeded), its networks trainable-ready."""

    def make(resolution: int = 64, **overrides):
        import torch

        from photo3d.paradigms.mvdiffusion import MVDiffusionConfig, build_mvdiffusion

        torch.manual_seed(0)
        return build_mvdiffusion(MVDiffusionConfig(**overrides), resolution=resolution)

    return make
