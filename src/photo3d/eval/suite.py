"""The evaluation suite: everything that defines *what* is measured, stored with the results.

A :class:`Suite` is a plain dataclass (no torch import, so the CLI builds it from options) that
round-trips through JSON. Two runs are comparable exactly when their suites are equal; the harness
refuses to resume into a results folder written with a different suite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from photo3d.config import TypedConfig, option

# Every metric photo3d.eval knows, in report order (photo3d.eval.metrics derives its registry from it).
DEFAULT_METRICS = (
    "clip_image",
    "clip_text",
    "fid",
    "kid",
    "musiq",
    "maniqa",
    "nima",
    "aesthetic",
    "psnr",
    "ssim",
    "lpips",
    "hf_energy_ratio",
    "silhouette_iou",
    "edge_f",
    "judge",
)


@dataclass
class Suite(TypedConfig):
    """What an evaluation measures. Every field is a ``photo3d eval`` option."""

    name: str = option("default", "suite name (stored with the results)")
    items: tuple[str, ...] = option((), "item ids to evaluate (default: all found)", metavar="ID")
    references: str | None = option(None,
        "folder of ground-truth grids grid_{id}.png (rig layout) for PSNR/SSIM/LPIPS/structure and FID/KID")
    reference_images: str | None = option(None,
        "folder of input images {id}.png for CLIP image fidelity and FID/KID")
    prompts: str | None = option(None,
        "prompts file: JSON {id: prompt}, 'id<TAB>prompt' lines, or one prompt per line (line i = id i)")
    cameras: Literal["rig", "rig+heldout"] = option("rig+heldout",
        "views rendered from assets: the 4-view rig, or the rig plus 8 held-out views (yaw 45+90k, pitch "
        "+-20)")
    resolution: int = option(512, "render resolution per view (assets only)")
    background: tuple[float, float, float] = option((1.0, 1.0, 1.0), "background RGB in [0,1] for renders")
    metrics: tuple[str, ...] = option(DEFAULT_METRICS, "metrics to compute")
    seed: int = option(0, "seed for bootstrap, KID subsets and judge order")
    n_bootstrap: int = option(1000, "bootstrap resamples for confidence intervals")
    confidence: float = option(0.95, "confidence level of the intervals")
    kid_subsets: int = option(100, "KID random subsets")
    clip_model: str | None = option(None,
        "local CLIP folder or cached hub id (default: $PHOTO3D_CLIP or openai/clip-vit-base-patch32)")
    judge_url: str | None = option(None, "OpenAI-compatible base URL of the VLM judge")
    judge_model: str = option("gemini-2.5-flash", "judge model name")
    judge_api_key_env: str = option("OPENAI_API_KEY",
        "environment variable holding the judge API key (the key itself is never stored)")

    def to_json(self) -> dict:
        """JSON-serialisable form (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_json(cls, data: dict) -> "Suite":
        """Inverse of :meth:`to_json` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        return cls(**values)

    def fingerprint(self) -> str:
        """Hash of the fields that change numbers (not ``n_bootstrap``/``confidence``, which are recomputed)."""
        data = self.to_json()
        for k in ("n_bootstrap", "confidence", "judge_api_key_env"):
            data.pop(k, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def load_prompts(path: str | Path | None) -> dict[str, str]:
    """Read a prompts file into ``{id: prompt}`` (formats: see :attr:`Suite.prompts`)."""
    if not path:
        return {}
    from photo3d.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: prompts file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object {{id: prompt}}")
        return {str(k): str(v) for k, v in data.items()}
    lines = [ln for ln in text.splitlines()]
    if lines and all("\t" in ln for ln in lines if ln.strip()):
        return {ln.split("\t", 1)[0].strip(): ln.split("\t", 1)[1].strip() for ln in lines if ln.strip()}
    return {str(i): ln.strip() for i, ln in enumerate(lines) if ln.strip()}
