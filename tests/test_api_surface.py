"""The public API only grows: every name in tests/api_surface.json must still be there.

After a deliberate removal (or to guard new names), regenerate the list with
``python tests/test_api_surface.py --write`` and review the diff.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path

import pytest

SURFACE_FILE = Path(__file__).with_name("api_surface.json")
# Packages whose names users import; photo3d.eval is a namespace of modules, so its modules count.
PACKAGES = ("photo3d", "photo3d.losses", "photo3d.encoders", "photo3d.render", "photo3d.assets",
            "photo3d.data", "photo3d.eval", "photo3d.structure", "photo3d.enhance", "photo3d.cameras",
            "photo3d.grid", "photo3d.bake", "photo3d.imaging", "photo3d.io", "photo3d.device", "photo3d.config",
            "photo3d.gaussians", "photo3d.texture", "photo3d.paradigms.feedforward",
            "photo3d.trellis", "photo3d.paradigms.mvdiffusion", "photo3d.doctor")


def public_names(module_name: str) -> list[str]:
    """``__all__``; else the public functions, classes and UPPER_CASE constants the module defines;
    for a package without either, its public submodules."""
    mod = importlib.import_module(module_name)
    if hasattr(mod, "__all__"):
        return sorted(mod.__all__)
    names = {
        n for n, v in vars(mod).items() if not n.startswith("_") and (
            (inspect.isclass(v) or inspect.isfunction(v)) and v.__module__ == module_name or n.isupper())
    }
    if not names and hasattr(mod, "__path__"):
        names = {m.name for m in pkgutil.iter_modules(mod.__path__) if not m.name.startswith("_")}
    return sorted(names)


def current_surface() -> dict[str, list[str]]:
    modules = list(PACKAGES)
    for name in public_names("photo3d.eval"):
        modules.append(f"photo3d.eval.{name}")
    return {m: public_names(m) for m in modules}


def _resolve(module_name: str, name: str):
    mod = importlib.import_module(module_name)
    if hasattr(mod, name):
        return getattr(mod, name)
    return importlib.import_module(f"{module_name}.{name}")  # a submodule not imported yet


def test_no_public_name_was_removed():
    expected = json.loads(SURFACE_FILE.read_text())
    current = current_surface()
    missing = {m: sorted(set(names) - set(current.get(m, []))) for m, names in expected.items()}
    missing = {m: n for m, n in missing.items() if n}
    assert not missing, (f"public names removed: {missing}; if intended, run "
                         "`python tests/test_api_surface.py --write` and review the diff")


@pytest.mark.parametrize("module_name", PACKAGES)
def test_every_listed_name_resolves(module_name):
    for name in public_names(module_name):
        assert _resolve(module_name, name) is not None, f"{module_name}.{name}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_api_surface.py --write")
    SURFACE_FILE.write_text(json.dumps(current_surface(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SURFACE_FILE}")
