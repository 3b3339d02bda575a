"""Check that every shared concept has exactly one home: no second definition comes back.

Each rule is a regular expression for a definition (or a tell-tale literal) and the files allowed
to contain it; a match anywhere else under ``src/photo3d`` or ``scripts`` is reported as
``path:line: <what> belongs in <home>``. ``tests/test_single_homes.py`` runs this check.

Usage: ``python scripts/check_single_homes.py`` (exit 1 when a concept is defined twice).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src/photo3d", "scripts")
PKG = "src/photo3d/"

# (what, regex, files allowed to match, relative to the repository root)
RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("the foreground mask", r"def foreground_mask\b", (PKG + "imaging/masks.py",)),
    ("a comparison with the 250/255 level (use WHITE_TOLERANCE)", r"[<>]=?\s*250(\.0)?\s*/\s*255", ()),
    ("the white-background tolerances", r"^(WHITE_TOLERANCE|SILHOUETTE_WHITE_TOLERANCE)\s*=",
     (PKG + "imaging/masks.py",)),
    ("the former white_threshold name", r"white_threshold|WHITE_THRESHOLD\s*=",
     (PKG + "structure.py", PKG + "data/config.py")),
    ("morphology (dilation / erosion by max-pooling)", r"def (dilate|erode|opening|closing)\b|(?<!adaptive_)max_pool2d\(",
     (PKG + "imaging/morphology.py",)),
    ("luminance coefficients", r"0\.2126|0\.7152|\b0\.299\b|\b0\.587\b", (PKG + "imaging/color.py",)),
    ("blur and derivative filters", r"def (gaussian_blur|binomial_blur|sobel|laplacian)\b",
     (PKG + "imaging/filters.py",)),
    ("image resizing", r"def (resize|resize_views)\b", (PKG + "imaging/resample.py",)),
    ("tone matching", r"def match_tone\b", (PKG + "imaging/tone.py",)),
    ("paired-view metrics", r"def (psnr|ssim|lpips|hf_energy_ratio|high_pass|inception_distance|detail_metrics)\b",
     (PKG + "eval/metrics/fidelity.py", PKG + "eval/metrics/detail.py")),
    ("structure scores", r"def (silhouette_iou|edge_map|edge_fscore|structure_scores|patch_similarity)\b",
     (PKG + "eval/metrics/structure.py",)),
    ("image decoding and encoding",
     r"Image\.open\(|Image\.alpha_composite|format=\"(PNG|GIF)\"|def (encode_png|encode_gif|decode_image|"
     r"decode_array|load_image|save_image|to_pil|to_uint8|texture_to_tensor|png_bytes|decode_png)\b",
     (PKG + "io/images.py",)),
    ("device resolution", r"def resolve_device\b|torch\.cuda\.is_available\(\)", (PKG + "device.py",)),
    ("loading the FID Inception", r"torch\.jit\.load\(|_jit_set_profiling_executor", (PKG + "encoders/inception.py",)),
    ("CLIP's normalisation constants", r"0\.48145466|0\.26862954", (PKG + "encoders/base.py",)),
    ("loading pretrained CLIP / DINO weights", r"(CLIP|Dinov2|DINOv3)\w*\.from_pretrained\(|transformers\.\w+\.from_pretrained\(",
     (PKG + "encoders/registry.py",)),
    ("model-weight environment variables", r"[\"']PHOTO3D_(CLIP|CLIP_MODEL|DINO|DINOV2|INCEPTION|ALLOW_DOWNLOAD)[\"']",
     (PKG + "encoders/registry.py",)),
    ("choosing the L_real encoders",
     r"^(?!\s*>>>).*load_encoder\([\"'](tiny-clip|tiny-dino|clip-vit-b32|dinov3-vitl16)[\"']",
     (PKG + "encoders/selection.py",)),
    ("the Gaussian front door", r"def (render_gaussians|render_gaussian_grid)\b", (PKG + "gaussians/render.py",)),
    ("render backend resolution", r"def resolve_backend\b", (PKG + "render/backends.py",)),
    ("grid tiling", r"def (compose_grid|split_grid|tile)\b|permute\(2, 0, 3, 1, 4\)", (PKG + "grid.py",)),
    ("JSON-lines reading and writing", r"def \w*jsonl\w*\b|json\.loads\((ln|line)\)", (PKG + "io/jsonl.py",)),
    ("the Photo3D-MV layout",
     r"^(ASSET_SUFFIXES|MESH_NAMES|GRID)\s*=|f?[\"']grid_\{|[\"']mesh\.obj[\"']|[\"']prompts\.txt[\"']",
     (PKG + "data/layout.py",)),
    ("unpickling checkpoints", r"weights_only\s*=\s*False", ()),
    ("HTML built from f-strings (use the report template)",
     r"f[\"']<(html|head|body|table|tr|td|th|div|img|figure|p|h\d|span|script|style|model-viewer)\b",
     (PKG + "eval/svg.py",)),
]


def violations(root: Path = ROOT) -> list[str]:
    """One line per definition found outside its home."""
    compiled = [(what, re.compile(rx, re.M), allowed) for what, rx, allowed in RULES]
    found = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel == "scripts/check_single_homes.py":
                continue
            text = path.read_text(encoding="utf-8")
            for what, rx, allowed in compiled:
                if rel in allowed:
                    continue
                for m in rx.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    home = ", ".join(allowed) or "no file (the literal is retired)"
                    found.append(f"{rel}:{line}: {what} belongs in {home}")
    return found


def main() -> int:
    bad = violations()
    for line in bad:
        print(line)
    print(f"{len(bad)} concept(s) defined outside their home" if bad else "every concept has one home")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
