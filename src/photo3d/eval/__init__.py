"""Evaluation: the paper's metrics, a resumable harness with bootstrap CIs, and an HTML report.

``photo3d eval`` runs :func:`photo3d.eval.harness.run_eval`; ``photo3d report`` runs
:func:`photo3d.eval.report.write_report`. Submodules import torch; this package file does not.
"""

from __future__ import annotations
