"""Importing the package stays cheap, and every public module imports."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import photo3d

ROOT = Path(photo3d.__file__).resolve().parent


def _public_modules() -> list[str]:
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(p.startswith("_") for p in parts):
            names.append(".".join(parts))
    return names


def test_package_and_cli_parser_do_not_import_torch():
    code = (
        "import sys\n"
        "import photo3d, photo3d.cli, photo3d.data, photo3d.encoders, photo3d.losses\n"
        "photo3d.cli.build_parser()\n"
        "for pkg in (photo3d, photo3d.data, photo3d.encoders, photo3d.losses):\n"
        "    assert set(pkg.__all__) <= set(dir(pkg)), pkg.__name__\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_lazy_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="photo3d.losses.*no_such_loss"):
        importlib.import_module("photo3d.losses").no_such_loss  # noqa: B018


def test_every_public_module_imports():
    modules = _public_modules()
    assert "photo3d.structure" in modules and "photo3d.cli.render" in modules
    failed = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - report them all at once
            failed[name] = repr(exc)
    assert not failed, failed
