"""Per-asset detail enhancement (``photo3d enhance``): optimise an asset's base-colour texture so
its renders match edited, photoreal reference views under Photo3D's L_real.

Light to import: the torch-heavy parts load on first use.
"""

from __future__ import annotations

from photo3d._lazy import lazy_exports
from photo3d.enhance.config import EnhanceConfig

_LAZY: dict[str, str] = {
    "enhance": "photo3d.enhance.pipeline",
    "EnhanceResult": "photo3d.enhance.record",
    "prepare": "photo3d.enhance.pipeline",
    "run_prepared": "photo3d.enhance.pipeline",
    "LaplacianTexture": "photo3d.enhance.texture",
    "blend_seen": "photo3d.enhance.texture",
    "texel_visibility": "photo3d.enhance.visibility",
    "match_tone": "photo3d.imaging.tone",
    "load_references": "photo3d.enhance.references",
    "References": "photo3d.enhance.references",
    "plastic_degrade": "photo3d.enhance.degrade",
    "PlasticDegradation": "photo3d.enhance.degrade",
    "editor_drift": "photo3d.enhance.warps",
    "EditorDrift": "photo3d.enhance.warps",
    "detail_metrics": "photo3d.eval.metrics.detail",
    "run_demo": "photo3d.enhance.demo",
    "DemoConfig": "photo3d.enhance.demo_config",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = ["EnhanceConfig", *_LAZY]
