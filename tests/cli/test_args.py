import argparse
from dataclasses import dataclass, field
from typing import Literal

from photo3d.cli._args import add_config_arguments, config_from_args


@dataclass
class Demo:
    steps: int = field(default=10, metadata={"help": "steps"})
    rule: Literal["nn", "greedy"] = field(default="nn", metadata={"help": "rule"})
    scale: tuple[float, float] = field(default=(0.4, 1.0), metadata={"help": "range"})
    tone: bool = field(default=True, metadata={"help": "tone match"})
    name: str | None = field(default=None, metadata={"help": "name"})


def test_dataclass_generates_options():
    p = argparse.ArgumentParser()
    add_config_arguments(p, Demo)
    cfg = config_from_args(Demo, p.parse_args(["--steps", "5", "--rule", "greedy", "--scale", "0.3", "0.8",
                                               "--no-tone", "--name", "x"]))
    assert cfg == Demo(steps=5, rule="greedy", scale=(0.3, 0.8), tone=False, name="x")
    assert config_from_args(Demo, p.parse_args([])) == Demo()


def test_choices_are_enforced(capsys):
    p = argparse.ArgumentParser()
    add_config_arguments(p, Demo)
    try:
        p.parse_args(["--rule", "bogus"])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover
        raise AssertionError("bad choice accepted")
    assert "invalid choice" in capsys.readouterr().err


def test_per_parser_defaults_override_field_defaults(capsys):
    p = argparse.ArgumentParser()
    add_config_arguments(p, Demo, defaults={"steps": 3, "scale": (0.3, 0.8)})
    assert config_from_args(Demo, p.parse_args([])) == Demo(steps=3, scale=(0.3, 0.8))
    assert config_from_args(Demo, p.parse_args(["--steps", "7"])).steps == 7
    p.print_help()
    assert "(default: 3)" in capsys.readouterr().out
    try:
        add_config_arguments(argparse.ArgumentParser(), Demo, defaults={"nope": 1})
    except ValueError as exc:
        assert "nope" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown default accepted")
