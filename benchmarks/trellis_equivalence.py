"""Our TRELLIS networks vs microsoft/TRELLIS's own code, on CPU, with the same random weights.

    python benchmarks/trellis_equivalence.py --trellis ~/src/TRELLIS          # the four networks, real configs
    python benchmarks/trellis_equivalence.py --trellis ~/src/TRELLIS --size small   # 2 blocks each: a minute
    python benchmarks/trellis_equivalence.py --trellis ~/src/TRELLIS --write-keys tests/trellis/data/trellis_image_large_keys.json
        # (only) the key names and shapes of TRELLIS's networks, the reference of tests/trellis

For every network (sparse-structure flow, sparse-structure decoder, SLAT flow, SLAT Gaussian
decoder) the script builds TRELLIS's class from the published configuration (TRELLIS-image-large,
fp32), gives every parameter random values (TRELLIS zero-initialises its output and modulation
layers, which would make every output trivially equal), loads that state dict into ours with our
strict loader (so key names and shapes are checked too), runs both on the same random input of
realistic size and prints one line with the largest absolute difference. It exits 0 only when
every network agrees within ``--tol`` (1e-4). It also checks our submanifold convolution against a
dense ``Conv3d`` on a grid masked at the active sites.

The checkout is the user's own (``--trellis PATH``): nothing of it is copied or kept. Its package
``__init__`` (which imports the rendering and pipeline stacks) is bypassed; these stand-ins are
installed on the **reference side only**, because TRELLIS's sparse modules accept nothing else:

* ``flash_attn``: TRELLIS's sparse attention supports only flash-attn / xformers. A reference
  written here (explicit softmax(q k^T / sqrt(d)) v per variable-length sequence, no fused
  kernel) provides the four flash-attn entry points TRELLIS calls. Dense attention uses TRELLIS's
  own ``sdpa`` backend (``ATTN_BACKEND=sdpa``).
* ``spconv``: the real package when importable (spconv 2.x runs on CPU, ``pip install spconv``),
  else a reference ``SubMConv3d`` written here (a dense index grid, the 27 neighbours gathered and
  multiplied by the kernel taps) behind a minimal ``SparseConvTensor``. The line says which ran.
* ``plyfile``, ``utils3d``, ``easydict`` and the FlexiCubes submodule: imported by TRELLIS modules
  that are loaded but not run (PLY export, mesh extraction); empty modules stand in when absent.
* The Gaussian representation is created with ``device="cuda"`` and ``.cuda()`` calls in TRELLIS;
  for the comparison ``torch.Tensor.cuda`` returns the tensor itself and the default device is
  CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import math
import os
import sys
import time
import types
from pathlib import Path

import torch
import torch.nn.functional as F

from photo3d.trellis.presets import DINOV2_TOKENS, TRELLIS_IMAGE_LARGE, preset
from photo3d.trellis.sparse import SparseTensor
from photo3d.trellis.weights import build_network, load_state_dict_into

NETWORKS = ("sparse_structure_flow_model", "sparse_structure_decoder", "slat_flow_model", "slat_decoder_gs")


# ----------------------------------------------------------------------------------------------
# reference-side stand-ins
# ----------------------------------------------------------------------------------------------
def _naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``[L, H, C]`` q against ``[S, H, C]`` k/v: explicit softmax attention (no fused kernel)."""
    w = torch.einsum("lhc,shc->hls", q, k) / math.sqrt(q.shape[-1])
    return torch.einsum("hls,shc->lhc", torch.softmax(w, dim=-1), v)


def _varlen(q, k, v, cu_q, cu_k):
    out = torch.empty(q.shape[0], q.shape[1], v.shape[2], dtype=q.dtype, device=q.device)
    cu_q, cu_k = cu_q.tolist(), cu_k.tolist()
    for i in range(len(cu_q) - 1):
        out[cu_q[i]:cu_q[i + 1]] = _naive_attention(q[cu_q[i]:cu_q[i + 1]], k[cu_k[i]:cu_k[i + 1]],
                                                    v[cu_k[i]:cu_k[i + 1]])
    return out


def _flash_attn_module() -> types.ModuleType:
    m = types.ModuleType("flash_attn")
    m.__doc__ = "reference attention for the TRELLIS equivalence check (not flash-attn)"
    m.flash_attn_varlen_qkvpacked_func = lambda qkv, cu, mx: _varlen(*qkv.unbind(1), cu, cu)
    m.flash_attn_varlen_kvpacked_func = lambda q, kv, cq, ck, mq, mk: _varlen(q, *kv.unbind(1), cq, ck)
    m.flash_attn_varlen_func = lambda q, k, v, cq, ck, mq, mk: _varlen(q, k, v, cq, ck)
    m.flash_attn_qkvpacked_func = lambda qkv: torch.stack([_naive_attention(*t.unbind(1)) for t in qkv])
    m.flash_attn_func = lambda q, k, v: torch.stack([_naive_attention(a, b, c) for a, b, c in zip(q, k, v)])
    m.flash_attn_kvpacked_func = lambda q, kv: torch.stack([_naive_attention(a, *b.unbind(1)) for a, b in zip(q, kv)])
    return m


class _RefSparseConvTensor:
    """The attributes of ``spconv.pytorch.SparseConvTensor`` that TRELLIS touches."""

    def __init__(self, features, indices, spatial_shape, batch_size, grid=None, voxel_num=None,
                 indice_dict=None, benchmark=False):
        self._features, self.indices, self.spatial_shape, self.batch_size = features, indices, spatial_shape, batch_size
        self.grid, self.voxel_num, self.indice_dict = grid, voxel_num, indice_dict or {}
        self.benchmark, self.benchmark_record, self.thrust_allocator = benchmark, {}, None
        self._timer, self.force_algo, self.int8_scale = None, None, None

    @property
    def features(self):
        return self._features

    @features.setter
    def features(self, value):
        self._features = value

    def replace_feature(self, feats):
        out = _RefSparseConvTensor(feats, self.indices, self.spatial_shape, self.batch_size)
        return out


class _RefSubMConv3d(torch.nn.Module):
    """Reference submanifold convolution: dense index grid, gather of the k^3 neighbours, matmul."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=None, dilation=1, bias=True,
                 indice_key=None, algo=None):
        super().__init__()
        if stride != 1 or padding is not None or dilation != 1:
            raise NotImplementedError("the reference conv covers TRELLIS's SubMConv3d (stride 1) only")
        self.out_channels, self.k = out_channels, kernel_size
        self.weight = torch.nn.Parameter(torch.zeros(out_channels, kernel_size, kernel_size, kernel_size, in_channels))
        self.bias = torch.nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x):
        idx = x.indices.long()
        r = self.k // 2
        shape = [int(x.batch_size)] + [int(s) + 2 * r for s in x.spatial_shape]
        grid = torch.full(shape, -1, dtype=torch.long)
        grid[idx[:, 0], idx[:, 1] + r, idx[:, 2] + r, idx[:, 3] + r] = torch.arange(len(idx))
        feats = x.features
        out = torch.zeros(len(idx), self.out_channels, dtype=feats.dtype)
        padded = torch.cat([feats, feats.new_zeros(1, feats.shape[1])])  # row -1 = zeros
        for a in range(self.k):
            for b in range(self.k):
                for c in range(self.k):
                    nbr = grid[idx[:, 0], idx[:, 1] + a, idx[:, 2] + b, idx[:, 3] + c]
                    out += padded[nbr] @ self.weight[:, a, b, c, :].T
        if self.bias is not None:
            out = out + self.bias
        return _RefSparseConvTensor(out, x.indices, x.spatial_shape, x.batch_size)


def _spconv_modules() -> dict[str, types.ModuleType]:
    root, sub = types.ModuleType("spconv"), types.ModuleType("spconv.pytorch")
    sub.SparseConvTensor, sub.SubMConv3d = _RefSparseConvTensor, _RefSubMConv3d
    sub.ConvAlgo = types.SimpleNamespace(Native="native", MaskImplicitGemm="implicit_gemm")
    root.pytorch = sub
    return {"spconv": root, "spconv.pytorch": sub}


def install_reference(trellis: Path, conv: str) -> str:
    """Make ``trellis.models`` importable from the checkout with the stand-ins above; returns the conv used."""
    if not (trellis / "trellis" / "models" / "structured_latent_flow.py").is_file():
        raise SystemExit(f"{trellis}: not a checkout of microsoft/TRELLIS (no trellis/models/structured_latent_flow.py)")
    os.environ["ATTN_BACKEND"] = "sdpa"
    os.environ.pop("SPARSE_ATTN_BACKEND", None)
    os.environ["SPCONV_ALGO"] = "native"
    sys.modules["flash_attn"] = _flash_attn_module()
    real = conv != "reference" and importlib.util.find_spec("spconv") is not None
    if conv == "spconv" and not real:
        raise SystemExit("--conv spconv: spconv is not importable here (pip install spconv)")
    if not real:
        sys.modules.update(_spconv_modules())
    for name in ("plyfile", "utils3d", "easydict"):
        if importlib.util.find_spec(name) is None:
            stub = types.ModuleType(name)
            stub.PlyData = stub.PlyElement = stub.EasyDict = dict
            sys.modules[name] = stub
    pkg = types.ModuleType("trellis")  # bypass trellis/__init__.py (pipelines, renderers, ...)
    pkg.__path__ = [str(trellis / "trellis")]
    sys.modules["trellis"] = pkg
    flexi = trellis / "trellis/representations/mesh/flexicubes/flexicubes.py"
    if not flexi.is_file():  # a git submodule, absent from a non-recursive clone; mesh extraction is not run
        for name in ("trellis.representations.mesh.flexicubes", "trellis.representations.mesh.flexicubes.flexicubes"):
            stub = types.ModuleType(name)
            stub.__path__ = []
            stub.FlexiCubes = object
            sys.modules[name] = stub
    if real:
        import spconv

        return f"spconv {getattr(spconv, '__version__', '?')}"
    return "reference SubMConv3d"


def upstream_class(name: str):
    module = {"SparseStructureFlowModel": "trellis.models.sparse_structure_flow",
              "SparseStructureDecoder": "trellis.models.sparse_structure_vae",
              "SLatFlowModel": "trellis.models.structured_latent_flow",
              "SLatGaussianDecoder": "trellis.models.structured_latent_vae.decoder_gs"}[name]
    return getattr(importlib.import_module(module), name)


# ----------------------------------------------------------------------------------------------
# inputs and weights
# ----------------------------------------------------------------------------------------------
def randomize_(model: torch.nn.Module, seed: int) -> None:
    """Random parameters with O(1) activations: N(0, 1/fan_in) weights, small biases, gains near 1."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:  # LayerNorm / RMS-norm gains
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))


def shell_voxels(resolution: int, target: int) -> torch.Tensor:
    """``[N, 3]`` voxels of a thick spherical shell with about ``target`` cells (a surface-like SLAT)."""
    g = torch.stack(torch.meshgrid(*[torch.arange(resolution)] * 3, indexing="ij"), -1).reshape(-1, 3)
    d = ((g.float() + 0.5) - resolution / 2).norm(dim=1)
    radius = resolution * 0.42
    lo, hi = 0.05, float(radius)
    for _ in range(40):  # bisect the shell half-thickness
        mid = (lo + hi) / 2
        n = int(((d - radius).abs() < mid).sum())
        lo, hi = (mid, hi) if n < target else (lo, mid)
    return g[(d - radius).abs() < hi].int()


def configs(size: str) -> dict:
    cfg = preset("trellis-image-large")
    for net in cfg.values():
        net["args"]["use_fp16"] = False
        if size == "small" and "num_blocks" in net["args"]:
            net["args"]["num_blocks"] = 2
    return cfg


@contextlib.contextmanager
def cpu_cuda_calls():
    """TRELLIS's Gaussian representation calls ``.cuda()``; keep its tensors on the CPU."""
    from trellis.representations.gaussian import gaussian_model

    cuda = torch.Tensor.cuda
    defaults = gaussian_model.Gaussian.__init__.__defaults__
    torch.Tensor.cuda = lambda self, *a, **k: self
    gaussian_model.Gaussian.__init__.__defaults__ = defaults[:-1] + ("cpu",)
    try:
        yield
    finally:
        torch.Tensor.cuda = cuda
        gaussian_model.Gaussian.__init__.__defaults__ = defaults


def _diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())


# ----------------------------------------------------------------------------------------------
# the four checks
# ----------------------------------------------------------------------------------------------
def run_network(key: str, cfg: dict, voxels: torch.Tensor, seed: int) -> dict:
    name, args = cfg["name"], cfg["args"]
    # train() mode: spconv fuses the bias into its kernel in eval mode, which its CPU build rejects;
    # TRELLIS's networks have no dropout or batch norm, so the mode changes nothing else.
    ref = upstream_class(name)(**args).train()
    randomize_(ref, seed)
    ours = build_network(cfg).eval()
    load_state_dict_into(ours, ref.state_dict(), f"TRELLIS {name} state dict")
    gen = torch.Generator().manual_seed(seed + 1)
    n_params = sum(p.numel() for p in ref.parameters())
    t_in = torch.tensor([1000 * 0.63])
    with torch.no_grad():
        if key == "sparse_structure_flow_model":
            r = args["resolution"]
            x = torch.randn(1, args["in_channels"], r, r, r, generator=gen)
            cond = torch.randn(1, DINOV2_TOKENS[0], args["cond_channels"], generator=gen)
            size = f"x [1, 8, {r}^3], cond [1, {DINOV2_TOKENS[0]}, {args['cond_channels']}]"
            t0 = time.perf_counter()
            a = ref(x, t_in, cond)
            t1 = time.perf_counter()
            b = ours(x, t_in, cond)
            t2 = time.perf_counter()
            diffs = {"velocity": (_diff(a, b), float(a.abs().max()))}
        elif key == "sparse_structure_decoder":
            z = torch.randn(1, args["latent_channels"], 16, 16, 16, generator=gen)
            size = "z [1, 8, 16^3] -> [1, 1, 64^3]"
            t0 = time.perf_counter()
            a = ref(z)
            t1 = time.perf_counter()
            b = ours(z)
            t2 = time.perf_counter()
            diffs = {"logits": (_diff(a, b), float(a.abs().max()))}
        else:
            from trellis.modules import sparse as sp

            feats = torch.randn(len(voxels), args["in_channels"] if "in_channels" in args else args["latent_channels"],
                                generator=gen)
            coords = torch.cat([torch.zeros(len(voxels), 1, dtype=torch.int32), voxels], 1)
            x_ref, x_ours = sp.SparseTensor(feats=feats, coords=coords), SparseTensor(coords, feats)
            size = f"{len(voxels)} voxels of {args['resolution']}^3"
            if key == "slat_flow_model":
                cond = torch.randn(1, DINOV2_TOKENS[0], args["cond_channels"], generator=gen)
                t0 = time.perf_counter()
                a = ref(x_ref, t_in, cond).feats
                t1 = time.perf_counter()
                b = ours(x_ours, t_in, cond).feats
                t2 = time.perf_counter()
                diffs = {"velocity": (_diff(a, b), float(a.abs().max()))}
            else:
                with cpu_cuda_calls():
                    t0 = time.perf_counter()
                    rep = ref(x_ref)[0]
                    t1 = time.perf_counter()
                    g = ours(x_ours)[0]
                    t2 = time.perf_counter()
                    ref_vals = {"means": rep.get_xyz, "scales": rep.get_scaling, "rotations": rep.get_rotation,
                                "opacities": rep.get_opacity.reshape(-1),
                                "colors": 0.5 + 0.28209479177387814 * rep._features_dc.reshape(-1, 3)}
                ours_vals = {"means": g.means, "scales": g.scales, "rotations": g.unit_quats,
                             "opacities": g.opacities, "colors": g.colors}
                diffs = {k: (_diff(ref_vals[k], ours_vals[k]), float(ref_vals[k].abs().max())) for k in ref_vals}
    worst = max(d for d, _ in diffs.values())
    return {"network": name, "params": n_params, "input": size, "diffs": diffs, "max_abs_diff": worst,
            "ref_s": t1 - t0, "ours_s": t2 - t1}


def check_conv(seed: int) -> dict:
    """Our submanifold convolution vs a dense Conv3d on a 24^3 grid masked at the active sites."""
    from photo3d.trellis.conv import submanifold_conv3d

    gen = torch.Generator().manual_seed(seed)
    r = 24
    active = torch.rand(2, r, r, r, generator=gen) < 0.2
    coords = torch.argwhere(active).int()
    feats = torch.randn(len(coords), 32, generator=gen, dtype=torch.float64)
    w = torch.randn(48, 3, 3, 3, 32, generator=gen, dtype=torch.float64) / math.sqrt(27 * 32)
    bias = torch.randn(48, generator=gen, dtype=torch.float64)
    ours = submanifold_conv3d(SparseTensor(coords, feats), w, bias).feats
    dense = torch.zeros(2, 32, r, r, r, dtype=torch.float64)
    c = coords.long()
    dense[c[:, 0], :, c[:, 1], c[:, 2], c[:, 3]] = feats
    ref = F.conv3d(dense, w.permute(0, 4, 1, 2, 3), bias, padding=1)[c[:, 0], :, c[:, 1], c[:, 2], c[:, 3]]
    return {"network": "submanifold conv vs dense Conv3d (masked)", "input": f"{len(coords)} voxels, 2 x {r}^3, 32->48",
            "max_abs_diff": _diff(ours, ref), "ref_max": float(ref.abs().max())}


def write_keys(path: Path) -> None:
    """Key names and shapes of TRELLIS's four networks built from the published configs (meta device)."""
    lines = ['{"source": "microsoft/TRELLIS classes built from the published TRELLIS-image-large configs '
             '(use_fp16: the dtype of each tensor); key names, shapes and dtypes only",', ' "networks": {']
    total = 0
    for i, key in enumerate(NETWORKS):
        cfg = TRELLIS_IMAGE_LARGE[key]
        with torch.device("meta"):
            state = upstream_class(cfg["name"])(**cfg["args"]).state_dict()
        rows = [f'   {json.dumps(k)}: [{json.dumps(list(v.shape))}, "{str(v.dtype).replace("torch.", "")}"]'
                for k, v in state.items()]
        total += len(rows)
        lines += [f'  {json.dumps(key)}: {{"name": {json.dumps(cfg["name"])}, "keys": {{', ",\n".join(rows),
                  "  }}" + ("," if i < len(NETWORKS) - 1 else "")]
    lines += [" }", "}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path} ({total} keys)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__[__doc__.index("For every"):])
    ap.add_argument("--trellis", required=True, type=Path, help="your checkout of microsoft/TRELLIS")
    ap.add_argument("--networks", nargs="+", choices=NETWORKS, default=list(NETWORKS))
    ap.add_argument("--size", choices=["full", "small"], default="full",
                    help="full: the published configs; small: 2 blocks per network (same widths)")
    ap.add_argument("--voxels", type=int, default=20000, help="occupied voxels of the sparse inputs (64^3 grid)")
    ap.add_argument("--conv", choices=["auto", "spconv", "reference"], default="auto",
                    help="reference-side sparse conv: real spconv when importable (auto), or the reference here")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed max-abs difference (fp32)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write-keys", type=Path, default=None,
                    help="only write the key/shape manifest of TRELLIS's networks (the tests' reference) here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    conv = install_reference(args.trellis.expanduser().resolve(), args.conv)
    if args.write_keys:
        write_keys(args.write_keys)
        return 0
    print(f"reference: TRELLIS at {args.trellis} (sparse conv: {conv}; sparse attention: explicit softmax reference; "
          f"dense attention: TRELLIS sdpa backend); fp32 CPU, {torch.get_num_threads()} threads, tol {args.tol:g}")
    cfgs = configs(args.size)
    voxels = shell_voxels(64, args.voxels)
    rows = [check_conv(args.seed)]
    print(f"  {rows[0]['network']}: max abs diff {rows[0]['max_abs_diff']:.2e} (float64; |ref| <= {rows[0]['ref_max']:.2f}) "
          f"{'OK' if rows[0]['max_abs_diff'] <= 1e-10 else 'FAIL'}")
    ok = rows[0]["max_abs_diff"] <= 1e-10
    for i, key in enumerate(args.networks):
        row = run_network(key, cfgs[key], voxels, args.seed + 10 * i)
        good = row["max_abs_diff"] <= args.tol
        ok &= good
        parts = ", ".join(f"{k} {d:.2e} (|ref| <= {m:.3g})" for k, (d, m) in row["diffs"].items())
        print(f"  {row['network']} [{row['params'] / 1e6:.1f}M params, {row['input']}]: max abs diff "
              f"{row['max_abs_diff']:.2e} {'OK' if good else 'FAIL'} -- {parts}; TRELLIS {row['ref_s']:.1f} s, ours {row['ours_s']:.1f} s")
        rows.append(row)
    print("all networks agree" if ok else "MISMATCH: see the lines above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
