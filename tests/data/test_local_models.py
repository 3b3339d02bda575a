"""The builder's local models against the real libraries: tiny random models written with
``save_pretrained`` and loaded through our loaders (the code path of the real weights), and a
stub of Hunyuan3D-2's published package API."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from photo3d.data import models
from photo3d.errors import InputError, MissingDependencyError

pytest.importorskip("transformers")
MESSAGES = [{"role": "system", "content": "a"}, {"role": "user", "content": "a red chair"}]
# transformers decides "is accelerate installed?" with is_accelerate_available(); make it say no
NO_ACCELERATE = """
import sys
import transformers, transformers.utils.import_utils as iu
iu.is_accelerate_available = lambda *a, **k: False
for m in list(sys.modules.values()):
    if getattr(m, "__name__", "").startswith("transformers") and hasattr(m, "is_accelerate_available"):
        m.is_accelerate_available = iu.is_accelerate_available
"""


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    from tiny_models import tiny_llama

    return tiny_llama(tmp_path_factory.mktemp("llama"))


@pytest.fixture(scope="module")
def flux_dirs(tmp_path_factory):
    pytest.importorskip("diffusers")
    from tiny_models import tiny_flux

    root = tmp_path_factory.mktemp("flux")
    return tiny_flux(root / "flux"), tiny_flux(root / "kontext", "FluxKontextPipeline")


def test_rewriter_runs_the_real_pipeline(llama_dir):
    rewriter = models.TransformersRewriter(str(llama_dir), max_tokens=4, device="cpu")
    text = rewriter(MESSAGES)
    assert isinstance(text, str) and text == rewriter(MESSAGES)  # greedy: deterministic
    assert rewriter._pipe.model.device.type == "cpu"


def test_rewriter_needs_no_accelerate(llama_dir):
    """The rewriter used to pass device_map= to transformers.pipeline, which then raises
    'Using a `device_map` ... requires `accelerate`' where accelerate is not installed."""
    code = NO_ACCELERATE + textwrap.dedent(f"""
        from photo3d.data.models import TransformersRewriter
        print(repr(TransformersRewriter({str(llama_dir)!r}, max_tokens=3, device="cpu")({MESSAGES!r})))
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]


def test_missing_rewriter_weights_are_one_line(tmp_path, monkeypatch):
    from photo3d.errors import WeightsNotFoundError

    monkeypatch.delenv("PHOTO3D_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.delenv("PHOTO3D_LLM", raising=False)
    with pytest.raises(WeightsNotFoundError) as info:
        models.TransformersRewriter("meta-llama/Meta-Llama-3-8B-Instruct", device="cpu").load()
    assert "PHOTO3D_LLM" in str(info.value) and "\n" not in str(info.value)


def test_flux_generator_loads_through_from_pretrained(flux_dirs, monkeypatch):
    flux, _ = flux_dirs
    gen = models.FluxGenerator(str(flux), size=32, steps=2, device="cpu")
    a, b = gen("a red chair", seed=1), gen("a red chair", seed=1)
    assert a.size == (32, 32) and np.array_equal(np.asarray(a), np.asarray(b))
    assert gen._pipe.transformer.dtype == torch.float32  # fp32 on the CPU
    monkeypatch.setenv("PHOTO3D_FLUX", str(flux))  # the hub id reads its variable
    assert models.FluxGenerator("black-forest-labs/FLUX.1-dev", size=32, steps=1, device="cpu")("a cat", 0).size == (32, 32)


def test_kontext_editor_loads_through_from_pretrained(flux_dirs):
    _, kontext = flux_dirs
    # auto_resize=False: Kontext's preferred sizes are ~1 megapixel, far too many tokens for a CPU test
    editor = models.KontextEditor(str(kontext), steps=2, device="cpu", auto_resize=False)
    grid = Image.fromarray(np.full((32, 32, 3), 200, np.uint8))
    assert editor(grid, "make it wooden", seed=0).size == (32, 32)


def test_kontext_needs_diffusers_034(monkeypatch):
    """Before, an older diffusers failed with an AttributeError on FluxKontextPipeline."""
    monkeypatch.setattr(models, "_version", lambda module: "0.33.1" if module == "diffusers" else None)
    with pytest.raises(MissingDependencyError) as info:
        models.KontextEditor("unused", device="cpu").load()
    assert ">= 0.34" in str(info.value) and "photo3d[diffusers]" in str(info.value)


def test_cpu_offload_replaces_moving_the_pipeline(monkeypatch):
    """FLUX.1-dev moved whole to the GPU needs ~33 GB; offload='model' keeps sub-models on the CPU."""
    calls = []

    class Pipe:
        def to(self, dev):
            calls.append(("to", str(dev)))
            return self

        def enable_model_cpu_offload(self, device=None):
            calls.append(("model_offload", str(device)))

    import photo3d.encoders.registry as registry

    monkeypatch.setattr(registry, "from_pretrained", lambda cls, name, what, **kw: Pipe())
    monkeypatch.setattr(models, "_device", lambda name: torch.device("cuda:0"))
    monkeypatch.setattr(models, "_dtype", lambda dev: torch.bfloat16)
    models.FluxGenerator("m", offload="model", device="cuda").load()
    models.FluxGenerator("m", offload="none", device="cuda").load()
    assert calls == [("model_offload", "cuda:0"), ("to", "cuda:0")]


def test_offload_on_the_cpu_is_a_clear_error():
    with pytest.raises(InputError, match="offload = 'model'.*CUDA"):
        models.FluxGenerator("m", offload="model", device="cpu").load()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_flux_model_cpu_offload_on_cuda(flux_dirs):
    pytest.importorskip("accelerate")
    gen = models.FluxGenerator(str(flux_dirs[0]), size=32, steps=2, device="cuda", offload="model")
    assert gen("a red chair", seed=0).size == (32, 32)


# ---- Hunyuan3D-2: a stub of the hy3dgen package's published API ---------------------------------
HY3DGEN = {
    "hy3dgen/__init__.py": "",
    "hy3dgen/shapegen/__init__.py": '''
import torch, trimesh
CALLS = []


class Hunyuan3DDiTFlowMatchingPipeline:
    @classmethod
    def from_pretrained(cls, model_path, device="cuda", dtype=torch.float16, use_safetensors=True, variant="fp16",
                        subfolder="hunyuan3d-dit-v2-0", **kwargs):
        CALLS.append(("shape.from_pretrained", model_path, device, dtype))
        return cls()

    def __call__(self, image=None, num_inference_steps=50, guidance_scale=5.0, generator=None, octree_resolution=384,
                 output_type="trimesh", **kwargs):
        CALLS.append(("shape", type(generator).__name__))
        return [trimesh.creation.box(extents=(0.6, 0.4, 0.9))]


class FaceReducer:
    def __call__(self, mesh, max_facenum=40000):
        CALLS.append(("reduce", max_facenum))
        return mesh
''',
    "hy3dgen/texgen/__init__.py": '''
import numpy as np, trimesh
from PIL import Image
from hy3dgen.shapegen import CALLS


class Hunyuan3DPaintPipeline:
    @classmethod
    def from_pretrained(cls, model_path, subfolder="hunyuan3d-paint-v2-0-turbo"):
        CALLS.append(("paint.from_pretrained", model_path))
        return cls()

    def __call__(self, mesh, image):
        CALLS.append(("paint",))
        colour = np.asarray(image.convert("RGB"))[16, 16]  # the object's colour, baked as a texture
        tex = Image.fromarray(np.tile(colour, (8, 8, 1)).astype(np.uint8))
        uv = np.random.default_rng(0).uniform(0.2, 0.8, (len(mesh.vertices), 2))
        mesh.visual = trimesh.visual.TextureVisuals(uv=uv, image=tex)
        return mesh
''',
}


@pytest.fixture
def hy3dgen(tmp_path, monkeypatch):
    for rel, text in HY3DGEN.items():
        (tmp_path / "site" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "site" / rel).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    weights = tmp_path / "Hunyuan3D-2"
    (weights / "hunyuan3d-dit-v2-0").mkdir(parents=True)
    (weights / "hunyuan3d-dit-v2-0" / "config.yaml").write_text("placeholder\n")
    monkeypatch.setenv("PHOTO3D_HUNYUAN3D", str(weights))
    yield weights
    for name in [n for n in sys.modules if n.split(".")[0] == "hy3dgen"]:
        del sys.modules[name]


def test_hunyuan3d_lifter_keeps_colour_and_its_device(hy3dgen, tmp_path, monkeypatch):
    """The lifter used to stop at grey geometry, on the package's default device."""
    from photo3d.data.stages_grid import render_asset_grid

    monkeypatch.setattr(models, "_device", lambda name: torch.device("cuda:1"))  # a GPU as resolved
    red = Image.fromarray(np.tile(np.array([200, 30, 30], np.uint8), (32, 32, 1)))
    path, frame = models.Hunyuan3DLifter("tencent/Hunyuan3D-2", device="cuda:1")(red, 0, tmp_path)
    from hy3dgen.shapegen import CALLS

    assert CALLS[0] == ("shape.from_pretrained", str(hy3dgen), "cuda:1", torch.float16)
    assert ("shape", "Generator") in CALLS and ("reduce", 40000) in CALLS and ("paint",) in CALLS
    grid = render_asset_grid(path, 32, frame, backend="torch")
    fg = (grid < 0.95).any(0)
    r, g, b = (grid[c][fg].mean().item() for c in range(3))
    assert frame == "y-up" and fg.any(), frame
    assert r > 2 * g and r > 2 * b, (r, g, b)  # red (shaded), not grey


def test_hunyuan3d_paint_needs_cuda_unless_geometry_only(hy3dgen, tmp_path):
    with pytest.raises(InputError, match="Hunyuan3D-Paint .* CUDA only.*texture = false"):
        models.Hunyuan3DLifter(device="cpu").load()
    path, _ = models.Hunyuan3DLifter(device="cpu", texture=False)(Image.new("RGB", (32, 32)), 0, tmp_path)
    from hy3dgen.shapegen import CALLS

    assert CALLS[0][2:] == ("cpu", torch.float32) and ("paint",) not in CALLS and path.is_file()


# ---- rembg: one session per process ---------------------------------------------------------------
def test_rembg_builds_one_session(tmp_path, monkeypatch):
    """rembg.remove(image) without a session loads u2net on every call; now one session is kept."""
    from photo3d.data import matting

    (tmp_path / "site" / "rembg").mkdir(parents=True)
    (tmp_path / "site" / "rembg" / "__init__.py").write_text('''
SESSIONS = []


def new_session(model_name="u2net", *args, **kwargs):
    SESSIONS.append(model_name)
    return ("session", model_name)


def remove(data, alpha_matting=False, session=None, **kwargs):
    if session is None:
        new_session()
    return data.convert("RGBA")
''')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(matting, "_SESSIONS", {})
    try:
        for _ in range(3):
            out, used = matting.remove_background(Image.new("RGB", (8, 8), "white"), "rembg")
        import rembg

        assert used == "rembg" and out.mode == "RGBA" and rembg.SESSIONS == ["u2net"]
    finally:
        sys.modules.pop("rembg", None)
