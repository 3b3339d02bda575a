"""Gaussian splatting renderer: dense reference, finite differences, chunking, PLY, grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from photo3d.cameras import orbit_cameras, rig_cameras
from photo3d.gaussians import Gaussians, load_ply, save_ply
from photo3d.gaussians.render import render_gaussian_grid, render_gaussians

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: threads only add overhead

# An independent, naive dense reference (numpy, float64): scipy quaternions, explicit per-Gaussian
# Jacobians, a sequential front-to-back loop over all Gaussians at every pixel. No shared code.

def dense_render(means, log_scales, quats_wxyz, opacity_logits, colors, c2w, K, width, height,
                 background=(1.0, 1.0, 1.0), eps2d=0.3, near=0.05, far=100.0, orthographic=False):
    """Returns (rgb [N,H,W,3], alpha [N,H,W]) for N cameras."""
    means, colors = np.asarray(means, float), np.asarray(colors, float)
    rot = Rotation.from_quat(np.asarray(quats_wxyz, float)[:, [1, 2, 3, 0]]).as_matrix()
    S = np.exp(np.asarray(log_scales, float))
    cov_w = np.einsum("gij,gj,gkj->gik", rot, S**2, rot)
    opac = 1.0 / (1.0 + np.exp(-np.asarray(opacity_logits, float)))
    rgbs, alphas = [], []
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    for c2w_i, K_i in zip(np.asarray(c2w, float), np.asarray(K, float)):
        w2c = np.linalg.inv(c2w_i)
        Rw, t = w2c[:3, :3], w2c[:3, 3]
        fx, fy, cx, cy = K_i[0, 0], K_i[1, 1], K_i[0, 2], K_i[1, 2]
        splats = []
        for g in range(len(means)):
            x, y, z = Rw @ means[g] + t
            if not (near < z < far):
                continue
            if orthographic:  # a linear map: its Jacobian is exact
                J, mu = np.array([[fx, 0.0, 0.0], [0.0, fy, 0.0]]), np.array([fx * x + cx, fy * y + cy])
            else:
                limx, limy = 1.3 * 0.5 * width / fx, 1.3 * 0.5 * height / fy
                tx, ty = np.clip(x / z, -limx, limx) * z, np.clip(y / z, -limy, limy) * z
                J = np.array([[fx / z, 0.0, -fx * tx / z**2], [0.0, fy / z, -fy * ty / z**2]])
                mu = np.array([fx * x / z + cx, fy * y / z + cy])
            cov2 = J @ Rw @ cov_w[g] @ Rw.T @ J.T + eps2d * np.eye(2)
            splats.append((z, mu, np.linalg.inv(cov2), g))
        splats.sort(key=lambda s: s[0])
        T = np.ones((height, width))
        rgb = np.zeros((height, width, 3))
        for _, mu, inv, g in splats:
            d = np.stack([xs - mu[0], ys - mu[1]], -1)
            q = np.einsum("hwi,ij,hwj->hw", d, inv, d)
            a = np.minimum(opac[g] * np.exp(-0.5 * q), 0.99)
            a = np.where(a >= 1.0 / 255.0, a, 0.0)
            rgb += (T * a)[..., None] * colors[g]
            T = T * (1.0 - a)
        alpha = 1.0 - T
        rgbs.append(rgb + T[..., None] * np.asarray(background, float))
        alphas.append(alpha)
    return np.stack(rgbs), np.stack(alphas)


def _scene(n: int, seed: int = 0, dtype=torch.float32, spread: float = 0.6, scale=(-3.5, -2.0)) -> Gaussians:
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float64)
    g = Gaussians(
        means=(r(n, 3) - 0.5) * spread,
        log_scales=scale[0] + (scale[1] - scale[0]) * r(n, 3),
        quats=torch.randn(n, 4, generator=gen, dtype=torch.float64),
        opacity_logits=torch.randn(n, generator=gen, dtype=torch.float64),
        colors=r(n, 3),
    )
    return g.to(dtype)


@pytest.mark.parametrize("seed", [0, 1])
def test_tiled_matches_dense_reference(seed):
    g = _scene(40, seed, torch.float64)
    cams = orbit_cameras([30.0, 200.0], [10.0, -15.0], resolution=40)
    out = render_gaussians(g, cams, backend="torch", t_min=0.0)
    ref_rgb, ref_alpha = dense_render(g.means, g.log_scales, g.quats, g.opacity_logits, g.colors,
                                      cams.c2w, cams.K, cams.width, cams.height)
    assert out.rgb.shape == (2, 3, 40, 40) and out.alpha.shape == (2, 1, 40, 40)
    assert np.abs(out.rgb.permute(0, 2, 3, 1).numpy() - ref_rgb).max() < 1e-6
    assert np.abs(out.alpha[:, 0].numpy() - ref_alpha).max() < 1e-6
    assert ref_alpha.max() > 0.5  # the scene is actually visible


def test_orthographic_matches_dense_reference_and_ignores_distance():
    g = _scene(40, 2, torch.float64)
    near = orbit_cameras([30.0, 200.0], [10.0, -15.0], radius=1.8, resolution=40, ortho_half_extent=0.55)
    far = orbit_cameras([30.0, 200.0], [10.0, -15.0], radius=6.0, resolution=40, ortho_half_extent=0.55)
    out = render_gaussians(g, near, backend="torch", t_min=0.0)
    ref_rgb, ref_alpha = dense_render(g.means, g.log_scales, g.quats, g.opacity_logits, g.colors,
                                      near.c2w, near.K, near.width, near.height, orthographic=True)
    assert np.abs(out.rgb.permute(0, 2, 3, 1).numpy() - ref_rgb).max() < 1e-6
    assert np.abs(out.alpha[:, 0].numpy() - ref_alpha).max() < 1e-6
    assert ref_alpha.max() > 0.5
    # A parallel projection does not depend on how far away the camera is.
    assert torch.allclose(render_gaussians(g, far, backend="torch", t_min=0.0).rgb, out.rgb, atol=1e-9)


def test_float32_and_early_stop_close_to_reference():
    g = _scene(60, 3, torch.float64, scale=(-2.5, -1.5))
    cams = orbit_cameras([90.0], [0.0], resolution=48)
    ref_rgb, _ = dense_render(g.means, g.log_scales, g.quats, g.opacity_logits, g.colors,
                              cams.c2w, cams.K, cams.width, cams.height)
    out = render_gaussians(g.to(torch.float32), cams, backend="torch", t_min=1e-4)
    assert np.abs(out.rgb.permute(0, 2, 3, 1).double().numpy() - ref_rgb).max() < 1e-4


def test_chunking_and_budget_do_not_change_the_image_or_gradients():
    g = _scene(80, 5, torch.float64)
    cams = orbit_cameras([0.0, 120.0], [0.0, 20.0], resolution=32)
    outs = []
    for chunk, budget in [(32, 1 << 22), (3, 256 * 3)]:  # one tile per step in the second run
        gg = g.map(lambda t: t.clone().requires_grad_(True))
        out = render_gaussians(gg, cams, backend="torch", chunk=chunk, budget=budget, t_min=0.0)
        (out.rgb.square().sum() + out.depth.sum()).backward()
        outs.append((out.rgb.detach(), gg.means.grad, gg.colors.grad, gg.opacity_logits.grad))
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-10)


def test_gradients_match_finite_differences():
    g = _scene(4, 7, torch.float64, spread=0.3, scale=(-2.2, -1.8))
    cams = orbit_cameras([20.0], [10.0], resolution=16, radius=1.2)
    weights = torch.rand(1, 3, 16, 16, dtype=torch.float64)
    wd = torch.rand(1, 1, 16, 16, dtype=torch.float64)

    def f(means, log_scales, quats, opacity_logits, colors):
        out = render_gaussians(Gaussians(means, log_scales, quats, opacity_logits, colors), cams,
                               background=(0.2, 0.5, 0.9), backend="torch", t_min=0.0, chunk=2, budget=512)
        return (out.rgb * weights).sum() + (out.alpha * wd).sum()

    inputs = tuple(t.clone().requires_grad_(True) for t in (g.means, g.log_scales, g.quats, g.opacity_logits, g.colors))
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)
    grads = torch.autograd.grad(f(*inputs), inputs)
    assert all(gr.abs().sum() > 0 for gr in grads)  # every parameter influences the image


def test_background_depth_and_empty_scene():
    g = _scene(30, 2)
    cams = rig_cameras(32)
    out = render_gaussians(g, cams, background=(0.0, 1.0, 0.0), backend="torch")
    covered = out.alpha[:, 0] > 0.5
    assert covered.any() and (~covered).any()
    empty = out.alpha[:, 0] < 1e-6
    assert torch.allclose(out.rgb[:, 1][empty], torch.ones(())) and torch.all(out.rgb[:, 0][empty] == 0)
    d = out.depth[:, 0][covered]
    assert (d > 1.7 - 0.6).all() and (d < 1.7 + 0.6).all()  # rig radius 1.7 around a small scene
    behind = Gaussians(g.means + torch.tensor([0.0, 5.0, 0.0]), g.log_scales, g.quats, g.opacity_logits, g.colors)
    out2 = render_gaussians(behind, cams[0:1], backend="torch")  # yaw 0 camera sits at +Y: all culled
    assert torch.all(out2.alpha == 0) and torch.allclose(out2.rgb, torch.ones(()))


def test_ply_round_trip(tmp_path):
    g = _scene(25, 4)
    path = save_ply(tmp_path / "g.ply", g)
    back = load_ply(path)
    for name in ("means", "log_scales", "quats", "opacity_logits", "colors"):
        assert torch.allclose(getattr(back, name), getattr(g, name), atol=1e-6), name
    header = path.read_bytes()[:400].decode("ascii", "replace")
    assert "property float f_dc_0" in header and "property float rot_3" in header
    assert not list(tmp_path.glob(".*"))  # atomic write left no temp file


def test_grid_layout():
    g = _scene(50, 6)
    grid = render_gaussian_grid(g, resolution=24, backend="torch")
    views = render_gaussians(g, rig_cameras(24), backend="torch").rgb.clamp(0, 1)
    assert grid.shape == (3, 48, 48)
    assert torch.allclose(grid[:, 24:, :24], views[2])  # bottom-left = yaw 180 (the front)


@pytest.mark.gpu
@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
def test_gsplat_matches_torch_backend(projection):  # pragma: no cover - needs CUDA + gsplat
    pytest.importorskip("gsplat")
    g = _scene(200, 8).to("cuda")
    cams = rig_cameras(64) if projection == "perspective" else orbit_cameras([0, 90, 180], 0.0, resolution=64,
                                                                             ortho_half_extent=0.55)
    a = render_gaussians(g, cams, backend="gsplat")
    b = render_gaussians(g, cams, backend="torch")
    assert (a.rgb - b.rgb).abs().max() < 2e-2


def test_one_front_door_and_one_backend_chooser():
    from photo3d.errors import InputError
    from photo3d.render import render_gaussians as via_render
    from photo3d.render import resolve_backend

    assert via_render is render_gaussians
    assert resolve_backend("auto", "cpu", "gaussians") == "torch"
    with pytest.raises(InputError, match="CUDA only"):
        resolve_backend("gsplat", "cpu", "gaussians")
    with pytest.raises(InputError, match="unknown Gaussian render backend 'gl'"):
        resolve_backend("gl", "cpu", "gaussians")
