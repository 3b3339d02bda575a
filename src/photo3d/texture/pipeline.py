"""``texture_mesh``: texture a mesh with a texturer, bake the result into a UV texture, export.

One run:

1. load the mesh into the world frame (Z up, centred, longest side 1) and the reference image;
2. build the texturer from the registry (:mod:`photo3d.texture.registry`) and run it;
3. give the mesh one UV atlas (:func:`photo3d.assets.single_atlas`, or its own UVs with
   ``uv="keep"``) and bake:

   * :class:`~photo3d.texture.base.ViewsResult` -> :func:`photo3d.bake.bake_views_result` at
     the result's cameras with its view weights;
   * :class:`~photo3d.texture.base.GaussiansResult` -> :func:`photo3d.bake.fit_texture_result`
     to :func:`photo3d.gaussians.render_gaussians` at the Step1X-3D rig plus random
     views; materials, when given, are fitted the same way into a glTF metallic-roughness map;

4. write the GLB, previews and ``record.json`` (:mod:`photo3d.texture.outputs`), staged in
   ``out_dir`` (:func:`photo3d.io.output.open_output`: probed and locked before any work, the set
   appears when the run finished, ``record.json`` last; an interruption leaves ``out_dir`` as it
   was).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from photo3d.errors import Photo3DError
from photo3d.io.output import open_output
from photo3d.texture.base import GaussiansResult, ViewsResult
from photo3d.texture.config import TextureConfig


@dataclass
class TextureResult:
    """What :func:`texture_mesh` produced.

    Attributes:
        out_dir: the output folder.
        files: output name -> path (``glb``, ``grid``, ``record``...).
        albedo: ``[3, T, T]`` baked base colour in [0, 1].
        metallic_roughness: ``[3, T, T]`` glTF metallic-roughness map (G roughness, B metallic) or ``None``.
        record: the content of ``record.json``.
    """

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    albedo: torch.Tensor | None = None
    metallic_roughness: torch.Tensor | None = None
    record: dict = field(default_factory=dict)


def texture_mesh(
    mesh_path: str | Path,
    prompt: str,
    out_dir: str | Path,
    model: str,
    weights: str,
    config: TextureConfig | None = None,
    *,
    image: str | Path | torch.Tensor | None = None,
    texturer=None,
    log: Callable[[str], None] | None = print,
) -> TextureResult:
    """Texture ``mesh_path`` with texturer ``model`` and write a textured GLB (see module docs).

    Args:
        mesh_path: GLB/glTF/OBJ/PLY... mesh (its geometry is kept exactly).
        prompt: text prompt.
        out_dir: output folder (created).
        model: registered texturer name (``photo3d.texture.texturer_names()``).
        weights: ``"tiny"`` (a tiny random model: a stand-in, for smoke runs) or a local folder.
        config: settings (default :class:`TextureConfig`).
        image: optional reference image (file or ``[3, H, W]`` tensor in [0, 1]).
        texturer: a ready texturer to use instead of building ``model`` (tests, notebooks).
        log: where progress lines go (``None`` = silent).

    Returns:
        :class:`TextureResult`.

    Raises:
        Photo3DError: missing files, unknown or unavailable texturers, unusable meshes (one line).
    """
    from photo3d.assets import load_asset
    from photo3d.device import resolve_device
    from photo3d.texture.outputs import write_outputs
    from photo3d.texture.registry import get_texturer

    config = config or TextureConfig()
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    path = Path(mesh_path)
    if not path.is_file():
        raise Photo3DError(f"{path}: mesh file not found")
    device = resolve_device(config.device)
    with open_output(out_dir, markers=("record.json",)) as out:  # locked and probed before any work
        asset = load_asset(path)
        ref = _reference(image)
        if texturer is None:
            texturer = get_texturer(model)(weights, device, **config.texturer_options())
        say(f"texturer: {model} (weights: {weights}) on {device}")
        result = texturer.texture(asset, prompt, ref, config.seed)
        t_model = time.perf_counter() - t0
        record = dict(getattr(result, "record", {}) or {})
        standin = weights == "tiny" or bool(record.get("standin", False))
        if standin:
            say("note: this texturer is a stand-in (tiny random weights or a test double), not the paper's model")
        bake_asset = _bake_asset(asset, config)
        if isinstance(result, ViewsResult):
            albedo, mr, bake = _bake_views(bake_asset, result, config, device)
        elif isinstance(result, GaussiansResult):
            albedo, mr, bake = _fit_gaussians(bake_asset, result, config, device)
        else:
            raise Photo3DError(f"texturer {model!r} returned {type(result).__name__}; want ViewsResult or "
                               "GaussiansResult")
        say(f"baked a {config.texture_size}² texture ({bake['kind']}, {bake['stats']['seen_of_covered']:.0%} of the "
            f"surface seen; render PSNR {bake['render_psnr_db']:.1f} dB against the texturer's output)")
        texturer_record = {"name": model, "weights": weights, "standin": standin, "kind": type(result).__name__,
                           **record}
        timing = {"texturer_s": round(t_model, 2), "bake_s": round(time.perf_counter() - t0 - t_model, 2)}
        res = write_outputs(out.folder, asset, bake_asset, result, albedo, mr, config, prompt, texturer_record,
                            bake, timing, t0, device)
    res.out_dir = out.target
    res.files = {k: out.final(v) for k, v in res.files.items()}
    say(f"wrote {res.files['glb']} and {len(res.files) - 1} more files to {res.out_dir}")
    return res


def _reference(image) -> torch.Tensor | None:
    if image is None or isinstance(image, torch.Tensor):
        return image
    from photo3d.io import load_image

    return load_image(image, "RGB", background=(1.0, 1.0, 1.0))


def _bake_asset(asset, config: TextureConfig):
    """The asset with the atlas the texture is baked into (checked: one atlas, one material)."""
    from photo3d.assets import single_atlas
    from photo3d.bake.texels import baking_mesh

    if config.uv == "atlas":
        return single_atlas(asset, config.texture_size)
    baking_mesh(asset, "--uv keep")
    return asset


def _bake_views(asset, result: ViewsResult, config: TextureConfig, device):
    from photo3d.bake import bake_views_result

    images = result.images.to(device).float()
    res = bake_views_result(asset, images, result.cameras, config.texture_size, result.view_weights,
                            config.exponent, backend=config.backend, progress=config.progress)
    cams = result.cameras.resized(images.shape[-1], images.shape[-2])
    psnr = render_psnr(asset, res.texture, cams, images, config.backend)
    return res.texture, None, {"kind": "views", "stats": res.stats, "render_psnr_db": psnr}


def _fit_gaussians(asset, result: GaussiansResult, config: TextureConfig, device):
    from photo3d.bake import fit_texture_result
    from photo3d.cameras import step1x3d_rig_cameras
    from photo3d.gaussians import Gaussians
    from photo3d.gaussians import render_gaussians

    g = result.gaussians.to(device=device, dtype=torch.float32)
    cams = step1x3d_rig_cameras(config.fit_resolution)
    fit = dict(steps=config.fit_steps, lr=config.fit_lr, random_views=config.fit_views, seed=config.seed,
               backend=config.backend, device=device, progress=config.progress)
    albedo = fit_texture_result(asset, lambda c: render_gaussians(g, c).rgb, cams, config.texture_size, **fit)
    bake = {"kind": "gaussians", "stats": albedo.stats, "render_psnr_db": albedo.stats["fit_psnr_db"],
            "losses": [h["loss"] for h in albedo.history]}
    mr = None
    if result.materials is not None:
        mat = result.materials.to(device=device, dtype=torch.float32)
        if mat.shape != (len(g), 2):
            raise Photo3DError(f"GaussiansResult.materials must be [G, 2] (roughness, metallic), got {tuple(mat.shape)}")
        # glTF packs roughness into G and metallic into B; R is unused (1 = no occlusion if read as ORM).
        g_mr = Gaussians(g.means, g.log_scales, g.quats, g.opacity_logits,
                         torch.cat([torch.ones_like(mat[:, :1]), mat], 1))
        fitted = fit_texture_result(asset, lambda c: render_gaussians(g_mr, c).rgb, cams, config.texture_size, **fit)
        mr = fitted.texture.clone()
        mr[0] = 1.0
        bake["materials"] = {"stats": fitted.stats, "render_psnr_db": fitted.stats["fit_psnr_db"]}
    return albedo.texture, mr, bake


def render_psnr(asset, texture: torch.Tensor, cameras, targets: torch.Tensor, backend: str = "auto") -> float:
    """PSNR (dB) of the textured mesh's render against ``targets [V, 3, H, W]`` on the mesh's pixels."""
    from photo3d.render import MeshTensors, render_views

    mesh = MeshTensors.from_mesh(asset.mesh, texture.device)
    with torch.no_grad():
        out = render_views(mesh, cameras, textures=[texture], backend=backend)
    fg = (out.alpha > 0.5).expand_as(out.rgb)
    mse = (out.rgb - targets.to(out.rgb.device))[fg].square().mean()
    return round(float(10 * torch.log10(1 / mse.clamp_min(1e-12))), 2)
