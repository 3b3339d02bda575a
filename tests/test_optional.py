"""Every install hint names an extra that exists in pyproject.toml and lists the package."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from photo3d import _optional
from photo3d.errors import MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
CORE = {re.split(r"[<>=!\[ ]", d)[0].lower() for d in PYPROJECT["project"]["dependencies"]}


def _requirement_names(extra: str) -> set[str]:
    return {re.split(r"[<>=!\[ ]", r)[0].lower().replace("_", "-") for r in EXTRAS[extra]}


@pytest.mark.parametrize("module", sorted(_optional.EXTRAS))
def test_each_extra_exists_and_lists_the_package(module):
    extra, package = _optional.EXTRAS[module]
    assert extra in EXTRAS, f"{module}: extra [{extra}] is not in pyproject.toml"
    assert package.lower().replace("_", "-") in _requirement_names(extra), f"[{extra}] does not list {package}"
    assert _optional.install_hint(module) == f"pip install 'photo3d[{extra}]'"
    assert _optional.install_hint(f"{module}.sub") == _optional.install_hint(module)  # submodules too


def _required_modules() -> set[str]:
    """Top-level modules of every ``require("...")`` call in the package."""
    found = set()
    for path in (ROOT / "src" / "photo3d").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "require"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value.split(".")[0])
    return found


def test_every_required_module_has_a_true_hint():
    modules = _required_modules()
    assert {"transformers", "openai", "ray", "jinja2"} <= modules
    for module in modules:
        known = module in _optional.EXTRAS or module in _optional.MANUAL or module.lower() in CORE
        assert known, f"require({module!r}) has no extra in photo3d._optional.EXTRAS and no MANUAL instructions"


def test_missing_module_message_is_one_line_with_the_hint():
    with pytest.raises(MissingDependencyError) as info:
        _optional.require("pyarrow_that_does_not_exist", "a test")
    assert "\n" not in str(info.value) and "pip install pyarrow_that_does_not_exist" in str(info.value)
    assert "github.com/NVlabs/nvdiffrast" in _optional.install_hint("nvdiffrast.torch")
