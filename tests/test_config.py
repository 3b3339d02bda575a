"""Typed configs: a wrong type is one line naming the key, the value and the expected type,
raised before any work (dataclass construction, TOML/JSON build configs, the command line)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field, fields

import pytest

from photo3d.config import TypedConfig, config_from_dict
from photo3d.enhance.config import EnhanceConfig
from photo3d.errors import InputError
from photo3d.eval.suite import Suite

CLI = [sys.executable, "-c", "import sys; from photo3d.cli import main; sys.exit(main())"]


@dataclass
class _Inner(TypedConfig):
    size: int = 4


@dataclass
class _Outer(TypedConfig):
    scale: float = 1.0
    pair: tuple[float, float] = (0.0, 1.0)
    names: tuple[str, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)
    inner: _Inner = field(default_factory=_Inner)


def test_dataclass_construction_checks_types():
    with pytest.raises(InputError) as info:
        EnhanceConfig(tone_match="bogus")
    assert str(info.value) == ("EnhanceConfig.tone_match = 'bogus': expected one of 'auto', 'none', 'mean', "
                               "'meanstd', 'histogram', 'consensus', 'drift'")
    with pytest.raises(InputError, match=r"EnhanceConfig.steps = True: expected an integer"):
        EnhanceConfig(steps=True)  # a bool is not an integer
    with pytest.raises(InputError, match=r"Suite.resolution = '512': expected an integer"):
        Suite(resolution="512")
    assert EnhanceConfig(lr=1).lr == 1  # an int is a number


def test_sequences_are_normalised_and_checked():
    cfg = _Outer(pair=[0.2, 0.8], names=["a", "b"])
    assert cfg.pair == (0.2, 0.8) and cfg.names == ("a", "b") and cfg == _Outer(pair=(0.2, 0.8), names=("a", "b"))
    with pytest.raises(InputError, match=r"_Outer.pair = \(1.0,\): expected a list of 2 values"):
        _Outer(pair=(1.0,))
    with pytest.raises(InputError, match=r"expected a table of numbers by name"):
        _Outer(weights={"a": "x"})


def test_nested_tables_name_the_key_path():
    cfg = config_from_dict({"scale": 2, "inner": {"size": 8}}, _Outer)
    assert cfg.inner.size == 8
    with pytest.raises(InputError, match=r"^inner.size = '8': expected an integer$"):
        config_from_dict({"inner": {"size": "8"}}, _Outer)
    with pytest.raises(InputError, match="unknown key 'sise'"):
        config_from_dict({"inner": {"sise": 8}}, _Outer)


@pytest.mark.parametrize("table,expected", [
    ("[render]\nresolution = \"512\"\n", "render.resolution = '512': expected an integer"),
    ("[verify]\nmin_iou = \"high\"\n", "verify.min_iou = 'high': expected a number"),
    ("[edit]\nbackend = \"gimp\"\n", "edit.backend = 'gimp': expected one of 'openai', 'kontext', 'import', 'none'"),
])
def test_build_config_with_a_wrong_type_fails_before_any_work(tmp_path, table, expected):
    cfg = tmp_path / "build.toml"
    cfg.write_text(f'out = "out"\n[source]\nkind = "assets"\npath = "{tmp_path}"\n{table}')
    run = subprocess.run([*CLI, "data", "build", str(cfg)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == f"photo3d data: error: {cfg}: {expected}"
    assert not (tmp_path / "out").exists()  # nothing was started


def test_former_key_names_are_still_read():
    from photo3d.data.config import config_from_dict as build_config

    assert build_config({"verify": {"white_threshold": 0.1}}).verify.white_tolerance == 0.1


def test_a_bad_command_line_value_is_one_line():
    run = subprocess.run([*CLI, "enhance", "a.glb", "-r", "g.png", "-o", "o", "--steps", "many"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "photo3d enhance: error: argument --steps: invalid int value: 'many' (see photo3d enhance --help)"]


def test_every_option_has_help_text():
    """One convention: every field of every options dataclass documents itself with metadata help."""
    import photo3d.cli.render  # noqa: F401  (the command-line configs register their classes on import)
    import photo3d.data.config  # noqa: F401
    import photo3d.enhance.demo_config  # noqa: F401
    import photo3d.losses.config  # noqa: F401
    import photo3d.paradigms.coupled.config  # noqa: F401
    import photo3d.train.config  # noqa: F401

    classes = [c for c in _subclasses(TypedConfig) if c.__module__.startswith("photo3d.")]
    assert len(classes) >= 15
    missing = [f"{c.__name__}.{f.name}" for c in classes for f in fields(c) if not f.metadata.get("help")]
    assert not missing, missing


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
