"""The evaluation suite: everything that defines *what* is measured, stored with the results.

A :class:`Suite` is a plain dataclass (no torch import, so the CLI builds it from options) that
round-trips through JSON. Two runs are comparable exactly when their suites are equal; the harness
refuses to resume into a results folder written with a different suite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from photo3d.config import TypedConfig

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
    "speckle_ratio",
    "silhouette_iou",
    "edge_f",
    "judge",
)


@dataclass
class Suite(TypedConfig):
    """What an evaluation measures. Every field is a ``photo3d eval`` option."""

    name: str = field(default="default", metadata={"help": "suite name (stored with the results)"})
    items: tuple[str, ...] = field(
        default=(), metadata={"help": "item ids to evaluate (default: all found)", "metavar": "ID"}
    )
    references: str | None = field(
        default=None,
        metadata={
            "help": "folder of ground-truth grids grid_{id}.png (rig layout) for PSNR/SSIM/LPIPS/structure and FID/KID"
        },
    )
    reference_images: str | None = field(
        default=None, metadata={"help": "folder of input images {id}.png for CLIP image fidelity and FID/KID"}
    )
    prompts: str | None = field(
        default=None,
        metadata={
            "help": "prompts file: JSON {id: prompt}, 'id<TAB>prompt' lines, or one prompt per line (line i = id i)"
        },
    )
    cameras: Literal["rig", "rig+heldout"] = field(
        default="rig+heldout",
        metadata={
            "help": "views rendered from assets: the 4-view rig, or the rig plus 8 held-out views (yaw 45+90k, "
            "pitch +-20)"
        },
    )
    resolution: int = field(default=512, metadata={"help": "render resolution per view (assets only)"})
    background: tuple[float, float, float] = field(
        default=(1.0, 1.0, 1.0), metadata={"help": "background RGB in [0,1] for renders"}
    )
    metrics: tuple[str, ...] = field(default=DEFAULT_METRICS, metadata={"help": "metrics to compute"})
    seed: int = field(default=0, metadata={"help": "seed for bootstrap, KID subsets and judge order"})
    n_bootstrap: int = field(default=1000, metadata={
        "help": "bootstrap resamples for confidence intervals (0: values without intervals)"})
    confidence: float = field(default=0.95, metadata={"help": "confidence level of the intervals"})
    kid_subsets: int = field(default=100, metadata={"help": "KID random subsets"})
    clip_model: str | None = field(
        default=None,
        metadata={
            "help": "local CLIP folder or cached hub id (default: $PHOTO3D_CLIP or openai/clip-vit-base-patch32)"
        },
    )
    judge_url: str | None = field(
        default=None, metadata={"help": "OpenAI-compatible base URL of the VLM judge"}
    )
    judge_model: str = field(default="gemini-2.5-flash", metadata={"help": "judge model name"})
    judge_api_key_env: str = field(
        default="OPENAI_API_KEY",
        metadata={"help": "environment variable holding the judge API key (the key itself is never stored)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        from photo3d.errors import ConfigError

        if self.n_bootstrap < 0:
            raise ConfigError(f"Suite.n_bootstrap = {self.n_bootstrap}: expected 0 (no intervals) or more")
        if not 0.0 < self.confidence < 1.0:
            raise ConfigError(f"Suite.confidence = {self.confidence}: expected a level between 0 and 1")

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

    from photo3d.io.text import expect_object, parse_json, read_text

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: prompts file not found")
    text = read_text(path, "prompts file")
    if path.suffix == ".json":
        data = expect_object(parse_json(text, path), path, "a JSON object {id: prompt}")
        return {str(k): str(v) for k, v in data.items()}
    lines = [ln for ln in text.splitlines()]
    if lines and all("\t" in ln for ln in lines if ln.strip()):
        return {ln.split("\t", 1)[0].strip(): ln.split("\t", 1)[1].strip() for ln in lines if ln.strip()}
    return {str(i): ln.strip() for i, ln in enumerate(lines) if ln.strip()}
