"""The texturer registry: lazy names, one-line errors for missing paradigms and packages."""

from __future__ import annotations

import sys
import textwrap

import pytest

from photo3d.errors import InputError, MissingDependencyError
from photo3d.texture import registry
from photo3d.texture.registry import get_texturer, register_texturer, texturer_help, texturer_names


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))


def test_builtin_names_and_help():
    names = texturer_names()
    assert names[:2] == ["mvdiffusion", "feedforward"]
    assert {"testing-views", "testing-gaussians"} <= set(names)
    assert "Step1X-3D" in texturer_help("mvdiffusion")
    assert registry._ENTRIES["mvdiffusion"][0] == "photo3d.paradigms.mvdiffusion.texturer:build_texturer"
    assert registry._ENTRIES["feedforward"][0] == "photo3d.paradigms.feedforward.texturer:build_texturer"


def test_unknown_name_lists_the_choices():
    with pytest.raises(InputError, match="unknown texturer 'nope'.*testing-views"):
        get_texturer("nope")


def test_missing_paradigm_module_is_one_clear_line(scratch_registry):
    register_texturer("ghost", "photo3d.paradigms.ghost.texturer:build_texturer", "not shipped")
    with pytest.raises(MissingDependencyError, match="texturer 'ghost' is not available in this installation") as err:
        get_texturer("ghost")
    assert "\n" not in str(err.value)


def test_missing_third_party_package_and_function_are_named(scratch_registry, tmp_path, monkeypatch):
    (tmp_path / "needs_pkg_texturer.py").write_text("import no_such_package_xyz\n")
    (tmp_path / "empty_texturer.py").write_text(textwrap.dedent("X = 1\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    register_texturer("needy", "needs_pkg_texturer:build", "needs a package")
    register_texturer("empty", "empty_texturer:build", "no factory")
    with pytest.raises(MissingDependencyError, match="needs the package 'no_such_package_xyz'"):
        get_texturer("needy")
    with pytest.raises(MissingDependencyError, match="has no build"):
        get_texturer("empty")
    sys.modules.pop("empty_texturer", None)


def test_registered_callable_is_returned(scratch_registry):
    factory = lambda weights, device, **options: ("built", weights)  # noqa: E731
    register_texturer("mine", factory, "mine")
    assert get_texturer("mine") is factory and "mine" in texturer_names()
