"""Tiny synthetic grids and method folders shared by the evaluation tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from photo3d.grid import compose_grid
from photo3d.io import save_image

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "photo3d" / "examples"


def object_views(seed: int, size: int = 32) -> torch.Tensor:
    """``[4, 3, size, size]``: a textured square on white, a different colour per view."""
    g = torch.Generator().manual_seed(seed)
    views = torch.ones(4, 3, size, size)
    lo, hi = size // 4, 3 * size // 4
    views[:, :, lo:hi, lo:hi] = 0.2 + 0.6 * torch.rand(4, 3, 1, 1, generator=g)
    views[:, :, lo:hi, lo:hi] += 0.1 * torch.rand(4, 3, hi - lo, hi - lo, generator=g)
    return views.clamp(0, 1)


def make_enhance_dir(root: Path, n: int = 3, glb: bool = False) -> Path:
    """A folder of fake `photo3d enhance` OUTDIRs: before = flat colours, after = reference + noise."""
    for k in range(n):
        d = root / f"obj{k}"
        d.mkdir(parents=True, exist_ok=True)
        ref = object_views(k)
        before = ref.clone()
        before[:, :, 8:24, 8:24] = before[:, :, 8:24, 8:24].mean((2, 3), keepdim=True)
        after = ref.clone()
        after[:, :, 8:24, 8:24] += 0.01 * torch.randn(
            4, 3, 16, 16, generator=torch.Generator().manual_seed(k)
        )
        for name, views in (("reference", ref), ("before", before), ("after", after.clamp(0, 1))):
            save_image(d / f"grid_{name}.png", compose_grid(views))
        (d / "record.json").write_text("{}")
        if glb:
            shutil.copy(EXAMPLES / "ycb_004_sugar_box" / "004_sugar_box_1k.glb", d / "enhanced.glb")
    return root


class TinyFeatures:
    """Stand-in feature extractor for FID/KID plumbing tests (mean colour + a coarse histogram)."""

    name = "tiny-test-features (not Inception)"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        pooled = torch.nn.functional.adaptive_avg_pool2d(images, 4).flatten(1)
        return torch.cat([pooled, images.mean((2, 3))], 1)
