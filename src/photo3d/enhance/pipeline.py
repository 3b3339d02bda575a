"""``enhance``: make an asset's base colour photoreal from edited views.

The asset's geometry is fixed; only base-colour textures change. One run:

1. load the asset (assets without UVs/textures get an xatlas atlas and a baked texture through
   :func:`photo3d.assets.ensure_uvs`, noted in the record) and the references;
2. rasterise the reference cameras once (:class:`~photo3d.enhance.views.FixedViews`);
3. splat the references' UV coverage into a texel visibility mask per material, from the pixels
   the geometry lets us trust (``|n.v|^view_exponent``, none beyond 75 degrees or at silhouettes);
4. tone-match the references (``tone_match``; :mod:`photo3d.imaging.tone`);
5. register them (``registration``; on for the hybrid default): optical flow warps every
   reference into its render's frame, with a per-pixel confidence; failed views (mirrored
   edits, folding or inconsistent flow) are dropped and the run says so
   (:mod:`photo3d.enhance.registration`); with ``drift`` tone matching (the hybrid default)
   each view's white balance, exposure and lighting ramp relative to the other views is fitted
   on the registered, confident pixels and removed (:func:`photo3d.imaging.tone.fit_view_drift`),
   so differences between views are not painted into the texture as seams;
6. optimise a Laplacian-pyramid texture per textured material (``optimizer``, level-SGD by
   default, with a fixed coverage preconditioner) on the objective
   (:mod:`photo3d.enhance.objective`) ``+ anchor_weight * |texture - original|_1``, re-shading the
   cached views each step and re-registering against the current renders every
   ``register_every`` steps; the pyramid's finest level is band-limited to the detail the views
   resolve (:func:`~photo3d.enhance.texture.finest_level`, ``band_limit``);
7. unseen texels keep their values, recoloured by the seen texels' colour change plus the local
   change next to them diffused over the surface, and chart borders the input's gutter bled into
   are refilled from the charts' interiors (``recolour_unseen``,
   :func:`~photo3d.enhance.texture.diffuse_change`); the outputs are written
   (:func:`photo3d.enhance.record.write_outputs`).

After step 5 the (registered) reference views are checked against the renders of the asset at
their cameras (:mod:`photo3d.enhance.reference_check`, the dataset builder's structure scores and
thresholds):
a reference of another object, mirrored, with cells in the wrong order, or blank stops the run
(``config.force`` runs anyway); the scores go in ``record.json``. A ``ground_truth`` asset is
loaded before the optimisation too.

The output folder is opened with :func:`photo3d.io.output.open_output` before any work (probed,
locked against a second run) and the outputs are staged: they appear in ``out_dir`` together
when the run finished, ``record.json`` last. Ctrl-C or SIGTERM at any point, even while writing,
leaves ``out_dir`` as it was and re-raises ``KeyboardInterrupt`` (the CLI exits with status 130 /
143).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from photo3d._optional import is_available
from photo3d.device import resolve_device
from photo3d.encoders.selection import encoder_record
from photo3d.enhance.config import EnhanceConfig
from photo3d.enhance.objective import build_objective, pack_targets
from photo3d.enhance.optimise import LoopResult, current_textures, optimise
from photo3d.enhance.record import EnhanceResult, write_outputs
from photo3d.enhance.reference_check import verify_references
from photo3d.enhance.references import References, load_references
from photo3d.enhance.registration import Registration, register
from photo3d.enhance.texture import (LaplacianTexture, blend_seen, coverage_scale, diffuse_change, finest_level,
                                     recolour_unseen)
from photo3d.enhance.timing import StepTimer
from photo3d.enhance.views import FixedViews
from photo3d.enhance.visibility import sample_spacing, texel_visibility
from photo3d.errors import MissingDependencyError, Photo3DError
from photo3d.imaging.resample import resize
from photo3d.imaging.tone import ViewDrift, fit_view_drift, match_tone
from photo3d.io.output import open_output

MAX_AUTO_TEXTURE = 2048
UV_TEXTURE_SIZE = 1024


@dataclass
class Prepared:
    """Everything the loop needs, built once (exposed for tests and benchmarks)."""

    asset: object
    references: References
    views: FixedViews
    originals: dict[int, torch.Tensor]
    masks: dict[int, torch.Tensor]
    finest: dict[int, int]  # finest pyramid level per material (band limit of the views)
    before: torch.Tensor  # [N, 3, H, W] renders of the original textures at the reference cameras
    targets: torch.Tensor  # [N, 3, H, W] tone-matched references
    notes: list[str]
    device: torch.device
    alpha: torch.Tensor | None = None  # [N, 1, H, W] coverage of the reference views
    registrations: list[tuple[int, Registration]] = field(default_factory=list)  # (step, result) per pass
    # what the objective compares with: [N, 3, H, W] references, or [N, 4, H, W] registered references +
    # confidence (objective.pack_targets); re-registration updates it in place
    loss_targets: torch.Tensor | None = None
    seconds_registration: float = 0.0
    # [N, 1, H, W] trust in each reference pixel from the geometry alone (|n.v|^view_exponent, 0 at
    # grazing angles and near silhouettes / depth jumps); multiplies the registration confidence
    trust: torch.Tensor | None = None
    # per-view colour drift removed from the references after the first registration (drift tone)
    drift: ViewDrift | None = None
    tone_after_registration: bool = False

    @property
    def active_views(self) -> list[int]:
        """Views the objective uses: all, minus those the first registration dropped."""
        if not self.registrations:
            return list(range(len(self.targets)))
        return [v.view for v in self.registrations[0][1].views if v.status == "ok"]


def load_for_enhance(asset_path: str | Path, texture_size: int = 0):
    """Load and normalise an asset; give it UVs and a texture when it has none.

    Returns:
        ``(asset, notes)``.
    """
    from photo3d.assets import ensure_uvs, load_asset

    path = Path(asset_path)
    if not path.is_file():
        raise Photo3DError(f"{path}: asset file not found")
    asset = load_asset(path)
    notes: list[str] = []
    mesh = asset.mesh
    used = set(np.unique(mesh.face_material).tolist())
    untextured = [m for m in sorted(used) if not mesh.materials[m].has_texture]
    if mesh.uv is None or untextured:
        size = texture_size or UV_TEXTURE_SIZE
        asset = ensure_uvs(asset, texture_size=size)
        if mesh.uv is None:
            notes.append(f"the asset had no UVs: generated an xatlas atlas and baked its colours into a "
                         f"{size}x{size} texture, which is what is optimised")
        else:
            notes.append(f"material(s) {untextured} had no base-colour texture: each got a constant "
                         f"{size}x{size} texture of its colour, which is what is optimised")
    return asset, notes


def prepare(asset, references: References, config: EnhanceConfig, device: torch.device,
            notes: list[str] | None = None, log: Callable[[str], None] | None = None,
            register_now: bool = True) -> Prepared:
    """Rasterise, splat visibility, tone-match, register: the fixed part of a run.

    ``register_now=False`` leaves the registration to :func:`register_references` (the CLI checks
    the references against the asset first, so a wrong grid is reported as such)."""
    from photo3d.render import MeshTensors

    notes = list(notes or [])
    mesh_t = MeshTensors.from_mesh(asset.mesh, device)
    used = set(np.unique(asset.mesh.face_material).tolist())
    originals: dict[int, torch.Tensor] = {}
    for m, tex in enumerate(mesh_t.textures):
        if tex is None or m not in used:
            if tex is None and m in used:
                notes.append(f"material {m} ({asset.mesh.materials[m].name}) has no texture and keeps its colour")
            continue
        originals[m] = _resize_texture(tex[:4], config.texture_size)
        mesh_t.textures[m] = originals[m]
        (h, w), (nh, nw) = tex.shape[-2:], originals[m].shape[-2:]
        if (nh, nw) != (h, w) and not config.texture_size:
            msg = (f"material {m}'s {w}x{h} texture is optimised and exported at {nw}x{nh} (the automatic cap); "
                   f"pass --texture-size {max(h, w)} to keep its size")
            warnings.warn(msg, stacklevel=2)
            notes.append(msg)
    if not originals:
        raise Photo3DError(f"{asset.source}: no textured material to optimise")
    views = FixedViews(mesh_t, references.cameras, ssaa=config.ssaa)
    with torch.no_grad():
        out = views.render()
    mats = views.face_material(out)
    sizes = {m: tuple(t.shape[-2:]) for m, t in originals.items()}
    trust = view_trust(views, references, out.alpha.shape[-2:], config.view_exponent)
    # texels seen only at grazing angles or at silhouettes get no reliable colour: they keep theirs
    # (without this, e.g. a table top's underside, seen edge-on by the rig, is painted with stripes)
    masks = texel_visibility(out.uv, torch.where(trust[:, 0] > 0, mats, torch.full_like(mats, -1)), sizes,
                             config.visibility_dilation)
    finest = {m: finest_level(sample_spacing(out.uv[:, 0], out.uv[:, 1], mats == m, sizes[m]))
              for m in originals} if config.band_limit else {m: 0 for m in originals}
    refs = references.views.to(device)
    # drift is fitted on registered pixel pairs when there are any (update_registration)
    after = config.tone == "drift" and use_registration(config, [])
    targets = match_tone(refs, out.rgb, render_mask=out.alpha > 0.5, mode="none" if after else config.tone)
    coverage = float((out.alpha > 0.5).float().mean())
    if coverage < 0.01:
        raise Photo3DError(f"{asset.source}: the object covers {coverage:.1%} of the reference views; check that "
                           "the cameras look at it (world frame: Z up, object in [-0.5, 0.5]^3)")
    prep = Prepared(asset, references, views, originals, masks, finest, out.rgb, targets, notes, device,
                    alpha=out.alpha.detach(), trust=trust, tone_after_registration=after)
    prep.loss_targets = targets
    if register_now:
        register_references(prep, config, log)
    return prep


def register_references(prep: Prepared, config: EnhanceConfig, log: Callable[[str], None] | None = None,
                        strict: bool = True) -> None:
    """First registration pass (when ``config`` asks for it): warp the references to the renders.

    ``strict=False``: when no view registers, the references stay unregistered instead of raising
    (the caller checks them and reports what is wrong)."""
    if use_registration(config, prep.notes):
        update_registration(prep, prep.before, 0, log, force=config.force or not strict)


def checked_views(prep: Prepared, references: References) -> References:
    """The references as the structure check should see them: registered views warped into the
    render's frame (an editor's drift is then undone), the others as given."""
    if not prep.registrations:
        return references
    reg = prep.registrations[0][1]
    keep = reg.kept.to(reg.warped.device).view(-1, 1, 1, 1) > 0.5
    views = torch.where(keep, reg.warped, references.views.to(reg.warped.device))
    return replace(references, views=views)


def view_trust(views: FixedViews, references: References, size: tuple[int, int], exponent: float) -> torch.Tensor:
    """``[N, 1, H, W]`` geometric trust of each reference pixel: the baker's rule
    (:func:`photo3d.bake.fit.pixel_weights`: ``|n . v|^exponent``, 0 beyond 75 degrees and near
    silhouettes and depth jumps), averaged down to the render size when supersampled."""
    from photo3d.bake.fit import pixel_weights

    with torch.no_grad():
        w = pixel_weights(views.mesh, views.fragments, references.cameras, exponent)
    return w if tuple(w.shape[-2:]) == tuple(size) else torch.nn.functional.adaptive_avg_pool2d(w, size)


def use_registration(config: EnhanceConfig, notes: list[str]) -> bool:
    """Whether this run registers its references (``auto`` falls back to off without OpenCV)."""
    if not config.registered:
        return False
    if is_available("cv2"):
        return True
    if config.registration == "on":
        raise MissingDependencyError("--registration on needs OpenCV (cv2) but it is not installed; install it "
                                     "with: pip install 'photo3d[flow]'")
    notes.append("registration off: OpenCV (cv2) is not installed (pip install 'photo3d[flow]'); the pixel "
                 "term compares unregistered references")
    return False


def update_registration(prep: Prepared, renders: torch.Tensor, step: int, log: Callable[[str], None] | None,
                        force: bool = False) -> None:
    """Register the tone-matched references to ``renders`` and update ``prep.loss_targets`` in place.

    The first pass decides which views take part (failed views are dropped for the whole run).
    Later passes refine the alignment against the improved renders; a view whose new alignment
    fails its checks keeps its previous one (the reference did not change, the render did).
    """
    say = log or (lambda _m: None)
    reg = register(renders, prep.targets, prep.alpha > 0.5)
    prep.seconds_registration += reg.seconds
    if not prep.registrations:
        for msg in reg.messages():
            say(msg)
        ok = [v for v in reg.views if v.status == "ok"]
        if not ok and force:
            prep.notes.append("registration failed on every view; the references are used unregistered")
            say("registration: no view aligned; using the references unregistered")
            if prep.tone_after_registration:  # the drift is then fitted on the unregistered pairs
                prep.targets = match_tone(prep.targets, renders, render_mask=prep.alpha > 0.5, mode="drift")
                prep.loss_targets = prep.targets
            return
        prep.registrations.append((step, reg))
        if not ok:
            raise no_view_registered(prep.references.files[0] if prep.references.files else "reference")
        warped, weight = reg.warped, _trusted(prep, reg.confidence)
        if prep.tone_after_registration:
            warped = remove_drift(prep, renders, warped, weight, say)
        prep.loss_targets = pack_targets(warped, weight)
        say(f"registration: {len(ok)}/{len(reg.views)} views aligned, mean flow "
            f"{sum(v.flow_px for v in ok) / len(ok):.1f}px, confidence "
            + " ".join(f"{v.confidence:.2f}" for v in reg.views) + f" ({reg.seconds:.1f}s)")
        return
    prep.registrations.append((step, reg))
    weight, active = _trusted(prep, reg.confidence), prep.active_views
    for v in reg.views:
        if v.view not in active:
            continue  # dropped by the first pass
        if v.status == "ok":
            i = slice(v.view, v.view + 1)
            prep.loss_targets[v.view] = pack_targets(reg.warped[i], weight[i])[0]
        else:
            say(f"registration (step {step}): view {v.view} keeps its previous alignment ({v.reason})")


def no_view_registered(reference) -> Photo3DError:
    """The error of a run whose every reference view failed its alignment checks."""
    return Photo3DError(f"{reference}: no view could be registered to the renders (every view failed its alignment "
                        "checks, see above); check that the views match the asset and the rig layout, or rerun "
                        "with --registration off")


def remove_drift(prep: Prepared, renders: torch.Tensor, warped: torch.Tensor, weight: torch.Tensor,
                 say: Callable[[str], None]) -> torch.Tensor:
    """Fit each view's colour drift on the registered pairs (``weight``: registration confidence x
    geometric trust) and remove it from ``prep.targets`` (later passes register those) and from
    ``warped``, which is returned."""
    prep.drift = fit_view_drift(warped, renders, weight)
    prep.targets = prep.drift.remove(prep.targets)
    rec = [v for v in prep.drift.to_record() if v["ok"]]
    if rec:
        say("tone: per-view drift removed (gain " + " ".join("/".join(f"{g:.2f}" for g in v["gain"]) for v in rec)
            + "; ramp " + " ".join(f"{max(abs(r) for r in v['ramp']):.2f}" for v in rec) + ")")
    return prep.drift.remove(warped)


def _trusted(prep: Prepared, confidence: torch.Tensor) -> torch.Tensor:
    """Registration confidence times the geometric trust of each pixel."""
    return confidence if prep.trust is None else confidence * prep.trust.to(confidence)


def _resize_texture(tex: torch.Tensor, size: int) -> torch.Tensor:
    """Resize ``[C, H, W]`` so its longer side is ``size`` (0 = keep, capped at 2048)."""
    h, w = tex.shape[-2:]
    target = size or min(max(h, w), MAX_AUTO_TEXTURE)
    if target == max(h, w):
        return tex
    nh, nw = max(1, round(h * target / max(h, w))), max(1, round(w * target / max(h, w)))
    return resize(tex[None], (nh, nw))[0]


def needs_encoders(config: EnhanceConfig) -> bool:
    """False for objectives made of pixel terms only."""
    return not (config.loss in ("l1", "l2") or (config.loss == "hybrid" and config.real_weight == 0))


def load_loss_encoders(config: EnhanceConfig, device: torch.device):
    """``((adapt, match), record)`` for ``config.encoders``; ``(None, record)`` for pixel losses."""
    if not needs_encoders(config):
        return None, {"adapt": None, "match": None, "standin": False, "reason": f"pixel loss {config.loss}"}
    from photo3d.encoders import default_encoders

    adapt, match, rec = default_encoders(config.encoders, device)
    return (adapt, match), rec


def describe_encoders(record: dict) -> str:
    """One line: ``encoders: inception-v3-fid (offline stand-in for CLIP ViT-B/32 and DINOv3 ViT-L/16)``."""
    a, m = record.get("adapt"), record.get("match")
    if a is None:
        return f"encoders: none ({record.get('reason', 'pixel loss')})"
    if a["name"] == m["name"]:
        names = a["name"]
    else:
        names = f"{a['name']} (L_adapt) + {m['name']} (L_match)"
    if record.get("standin"):
        if "stand-in" in names:
            return f"encoders: {names}"
        return f"encoders: {names} (stand-in for the paper's CLIP ViT-B/32 and DINOv3 ViT-L/16)"
    return f"encoders: {names} (the paper's encoders)"


def run_prepared(prep: Prepared, config: EnhanceConfig, encoders, on_step: Callable | None = None,
                 log: Callable[[str], None] | None = None):
    """Optimise; returns ``(final textures {m: [C,H,W]}, LoopResult, loss config)``."""
    config = config.resolved(prep.device.type)
    torch.manual_seed(config.seed)
    timer = StepTimer(prep.device)
    registered = bool(prep.registrations)
    objective, loss_cfg = build_objective(config, encoders, timer, registered)
    params = {m: LaplacianTexture(t, config.pyramid_levels, prep.finest.get(m, 0),
                                  grey_levels=config.grey_levels).to(prep.device)
              for m, t in prep.originals.items()}

    if config.precondition:
        for m, scale in texel_coverage(prep, params).items():
            params[m].set_grad_scale(coverage_scale(scale))

    def reregister(step: int, params: dict[int, LaplacianTexture]) -> None:
        with torch.no_grad():
            renders = prep.views.render(current_textures(params, prep.views.mesh.num_materials)).rgb
        update_registration(prep, renders, step, log)

    estimate = EstimateNote(config, log)

    def step_done(step: int, rec: dict) -> None:
        estimate(step, rec)
        if on_step is not None:
            on_step(step, rec)

    loop: LoopResult = optimise(prep.views, params, prep.loss_targets, objective, config.steps, lr=config.lr,
                                anchor_weight=config.anchor_weight, views_per_step=config.views_per_step,
                                seed=config.seed, progress=config.progress, on_step=step_done,
                                active_views=prep.active_views, refresh=reregister if registered else None,
                                refresh_every=config.register_every, timer=timer, optimizer=config.optimizer)
    with torch.no_grad():
        final = {}
        for m, p in params.items():
            tex, orig = p(), prep.originals[m]
            if config.recolour_unseen and loop.steps > 0:  # zero steps: the input, untouched
                keep = recolour_unseen(tex, orig, prep.masks[m])
                final[m] = diffuse_change(tex, keep, prep.masks[m], prep.asset.mesh, m,
                                          margin=config.visibility_dilation + 1,
                                          seam_band=seam_band(prep.finest.get(m, 0)))
            else:
                final[m] = blend_seen(tex, orig, prep.masks[m])
    return final, loop, loss_cfg


def seam_band(finest: int) -> int:
    """Texels along chart borders that :func:`~photo3d.enhance.texture.diffuse_change` refills: one
    texel of the finest pyramid level the views resolve (``2**finest`` texels), plus two for the
    bilinear taps and a generator's gutter bleeding. Measured on the bell pepper (strong
    drift, 128 px, finest level 1; BENCHMARKS.md): speckle ratio 1.86 with no band, 1.30 / 1.21 /
    1.12 with 2 / 3 / 4 texels."""
    return 2 ** finest + 2


def texel_coverage(prep: Prepared, params: dict[int, LaplacianTexture]) -> dict[int, torch.Tensor]:
    """``{material: [1, H, W]}`` how much the pixel term sees each texel: the gradient of the
    trust-weighted sum of all reference renders with respect to the texture (bilinear sampling
    weights times pixel trust, summed over views)."""
    n_mat = prep.views.mesh.num_materials
    texs = {m: p.original[:3].detach().clone().requires_grad_(True) for m, p in params.items()}
    full = [torch.cat([texs[m], params[m].original[3:]], 0) if m in texs else None for m in range(n_mat)]
    with torch.enable_grad():
        rgb = prep.views.render(full).rgb
        weight = prep.trust if prep.trust is not None else (prep.alpha if prep.alpha is not None else 1.0)
        (rgb * weight).sum().backward()
    return {m: t.grad.detach().mean(0, keepdim=True) for m, t in texs.items()}


class EstimateNote:
    """After the first steps, say how long the optimisation will take, and a faster setting when
    that is more than ``LONG_RUN_S``.

    The first step is left out of the estimate (encoders warm up on it); the timed steps cover one
    whole ``real_every`` cycle of the hybrid objective. The faster setting scales the measured step
    by the pixel and step counts, which is what a step costs roughly.
    """

    LONG_RUN_S = 480.0

    def __init__(self, config: EnhanceConfig, log: Callable[[str], None] | None) -> None:
        self.config, self.log, self.first = config, log, None
        cycle = (config.real_every or 1) if config.loss == "hybrid" else 1
        self.measured = 1 + max(2, cycle)  # steps timed before the estimate

    def __call__(self, step: int, rec: dict) -> None:
        if self.log is None or self.config.steps <= self.measured:
            return
        if step == 0:
            self.first = rec["seconds"]
        if step != self.measured - 1 or self.first is None:
            return
        per_step = (rec["seconds"] - self.first) / (self.measured - 1)
        left = per_step * (self.config.steps - self.measured)
        msg = f"estimate: {left / 60:.1f} min of optimisation left ({per_step:.2f} s/step)"
        if left > self.LONG_RUN_S:
            res, steps = max(128, self.config.resolution * 3 // 4), max(20, self.config.steps * 2 // 3)
            faster = per_step * (res / self.config.resolution) ** 2 * steps
            msg += f"; faster: --resolution {res} --steps {steps} (about {faster / 60:.1f} min)"
        self.log(msg)


def enhance(
    asset_path: str | Path,
    reference: str | Path,
    out_dir: str | Path,
    config: EnhanceConfig | None = None,
    *,
    cameras: str | Path | None = None,
    ground_truth: str | Path | None = None,
    encoders: tuple | None = None,
    on_step: Callable[[int, dict], None] | None = None,
    log: Callable[[str], None] | None = print,
) -> EnhanceResult:
    """Enhance ``asset_path``'s base colour toward the edited ``reference`` views.

    Args:
        asset_path: GLB/glTF/OBJ/... asset (geometry is kept exactly).
        reference: edited 2x2 rig grid image, or folder of views + ``cameras.json`` (see
            :mod:`photo3d.enhance.references`).
        out_dir: output folder (created).
        config: settings (default :class:`EnhanceConfig`).
        cameras: cameras JSON for a folder of views (default ``reference/cameras.json``).
        ground_truth: optional asset with the same geometry and the true texture; when given,
            held-out metrics before/after are computed and recorded.
        encoders: ``(adapt, match)`` encoders to use instead of ``config.encoders``.
        on_step: called after every step with ``(step, record)``.
        log: where progress lines go (``None`` = silent).

    Returns:
        :class:`~photo3d.enhance.record.EnhanceResult`.

    Raises:
        Photo3DError: missing files, unusable assets or references, reference views that do not
            show the asset (:class:`~photo3d.enhance.reference_check.ReferenceCheckError`, unless
            ``config.force``), an output folder that cannot be written or is in use.
        KeyboardInterrupt: on Ctrl-C; nothing is written then.
    """
    config = config or EnhanceConfig()
    with open_output(out_dir, markers=("record.json",)) as out:  # locked and probed before any work
        result = _enhance_into(out.folder, asset_path, reference, config, cameras, ground_truth, encoders, on_step,
                               log)
    result.out_dir = out.target
    result.files = {k: out.final(v) for k, v in result.files.items()}
    return result


def _enhance_into(out_dir: Path, asset_path, reference, config: EnhanceConfig, cameras, ground_truth, encoders,
                  on_step, log) -> EnhanceResult:
    """:func:`enhance` writing into ``out_dir`` (the staging folder of the output)."""
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    device = resolve_device(config.device)
    if ground_truth is not None:  # fail now, not after the optimisation
        from photo3d.eval.metrics.detail import DETAIL_METRICS
        from photo3d.eval.metrics.paired import require_paired

        require_paired(DETAIL_METRICS, "held-out metrics against --ground-truth")
    config = config.resolved(device.type)
    references = load_references(reference, config.resolution, cameras)
    asset, notes = load_for_enhance(asset_path, config.texture_size)
    ground_truth = load_ground_truth(ground_truth, asset)
    for note in notes:
        say(f"note: {note}")
    prep = prepare(asset, references, config, device, notes, say, register_now=False)
    register_references(prep, config, say, strict=False)
    check = verify_references(prep.before, checked_views(prep, references), str(reference), config.force)
    if use_registration(config, []) and not prep.registrations and not config.force:
        raise no_view_registered(reference)
    if encoders is not None and not needs_encoders(config):
        enc_record = load_loss_encoders(config, device)[1]  # pixel loss: encoders only serve the metrics
    elif encoders is not None:
        enc_record = encoder_record(*encoders, "given by the caller")
    else:
        encoders, enc_record = load_loss_encoders(config, device)
    say(describe_encoders(enc_record))
    say(f"device: {device}; {len(references.cameras)} reference views at {references.cameras.width}px; "
        f"{config.steps} steps of loss {config.loss}, registration {'on' if prep.registrations else 'off'}")
    t_setup = time.perf_counter() - t0
    final, loop, loss_cfg = run_prepared(prep, config, encoders, on_step, say)
    timing = {"setup_s": round(t_setup, 2), "optimise_s": round(loop.seconds, 2),
              "s_per_step": round(loop.seconds / max(loop.steps, 1), 3), "per_step": loop.timing,
              "registration_s": round(prep.seconds_registration, 2)}
    say(f"seconds per step: {loop.timing and ' '.join(f'{k} {v:.2f}' for k, v in loop.timing.items())}")
    return write_outputs(Path(out_dir), prep, final, loop, config, enc_record, loss_cfg, timing, t0,
                         ground_truth=ground_truth, encoders=encoders, log=say, reference_check=check)


def load_ground_truth(ground_truth, asset):
    """Load a ``--ground-truth`` asset before the optimisation (its errors stop the run at once).

    Returns the loaded asset (or ``ground_truth`` unchanged when it is ``None`` or already
    rendered views); a ground truth with other geometry than ``asset`` is a warning.
    """
    if ground_truth is None or isinstance(ground_truth, (tuple, list)):
        return ground_truth
    from photo3d.assets import Asset, load_asset

    gt = ground_truth if isinstance(ground_truth, Asset) else load_asset(ground_truth)
    if gt.mesh.num_faces != asset.mesh.num_faces:
        warnings.warn(f"{gt.source}: the ground truth has {gt.mesh.num_faces} faces, the asset "
                      f"{asset.mesh.num_faces}; held-out metrics assume the same geometry", stacklevel=2)
    return gt
