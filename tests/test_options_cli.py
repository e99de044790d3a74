import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import pytest

from lgrin_edge.cli import Parser
from lgrin_edge.options_cli import add_options, add_shared_options, cli, cli_fields, values


@dataclass(frozen=True, kw_only=True)
class Toy:
    HELP_GROUP: ClassVar[str] = "toy options"

    count: int = field(default=3, metadata=cli("how many", low=1))
    rate: float | None = field(default=None, metadata=cli("a rate", low=0.0, strict=True))
    mode: Literal["a", "b"] = field(default="a", metadata=cli())
    pair: tuple[int, int] = field(default=(1, 2), metadata=cli("two", low=1, metavar=("X", "Y")))
    names: tuple[str, ...] = field(default=(), metadata=cli("any", choices=("p", "q")))
    fast: bool = field(default=False, metadata=cli("go fast"))
    smooth: bool = field(default=True, metadata=cli("rough instead"))
    depth: int = field(default=2, metadata=cli("layers", flag="--layers"))
    where: Path = field(default=Path("x"), metadata=cli("a folder"))
    given_only: float = field(metadata=cli("no default: absent unless given"))
    hidden: int = 7  # not an option


def _toy_parser() -> argparse.ArgumentParser:
    p = Parser(prog="toy")
    add_options(p, Toy)
    return p


def test_a_field_states_its_option_once():
    p = _toy_parser()
    flags = [a.option_strings[0] for a in p._actions[1:]]
    assert flags == [
        "--count", "--rate", "--mode", "--pair", "--names", "--fast", "--no-smooth", "--layers", "--where",
        "--given-only",
    ]  # fmt: skip
    args = p.parse_args([])
    assert (args.count, args.rate, args.mode, args.pair, args.names) == (3, None, "a", (1, 2), ())
    assert not hasattr(args, "given_only") and not hasattr(args, "hidden")
    assert values(Toy, args) == {
        "count": 3, "mode": "a", "pair": (1, 2), "names": (), "fast": False, "smooth": True, "depth": 2,
        "where": Path("x"),
    }  # fmt: skip
    argv = ["--pair", "3", "4", "--names", "q", "p", "--no-smooth", "--layers", "5", "--given-only", "-1.5"]
    got = values(Toy, p.parse_args([*argv, "--rate", "0.5", "--where", "y"]))
    assert got["pair"] == (3, 4) and got["names"] == ("q", "p") and got["smooth"] is False
    assert (got["depth"], got["given_only"], got["rate"], got["where"]) == (5, -1.5, 0.5, Path("y"))


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--count", "0"], "--count: must be >= 1"),
        (["--rate", "0"], "--rate: must be a finite number > 0.0"),
        (["--mode", "c"], "--mode: invalid choice: 'c'"),
        (["--pair", "1"], "--pair: expected 2 arguments"),
        (["--names", "r"], "--names: invalid choice: 'r'"),
        (["--given-only", "inf"], "--given-only: must be a finite number"),
    ],
)
def test_the_type_refuses_what_the_field_cannot_hold(argv, needle, capsys):
    with pytest.raises(SystemExit):
        _toy_parser().parse_args(argv)
    assert needle in capsys.readouterr().err


def test_help_shows_the_field_help_metavar_and_default():
    p = argparse.ArgumentParser(prog="toy", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_options(p, Toy, names=["pair", "mode", "count"], omit=["count"])
    text = p.format_help()
    assert re.search(r"--pair X Y +two \(default: \(1, 2\)\)", text) and "--count" not in text
    assert "--mode {a,b}\n" in text  # no help: no line of it


@dataclass(frozen=True, kw_only=True)
class Narrow:
    HELP_GROUP: ClassVar[str] = "other options"

    width: int = field(default=4, metadata=cli("width", low=1))
    flat: bool = field(default=False, metadata=cli("no depth"))


@dataclass(frozen=True, kw_only=True)
class Wide:
    HELP_GROUP: ClassVar[str] = "other options"

    width: int = field(default=64, metadata=cli("width", low=1))


def test_a_flag_several_classes_declare_is_one_option_naming_each_default():
    p = argparse.ArgumentParser(prog="toy")
    add_shared_options(p, [("Toy", Toy), ("Narrow", Narrow), ("Wide", Wide)])
    titles = [g.title for g in p._action_groups]
    assert titles[-2:] == ["toy options", "other options"]
    width = next(a for a in p._actions if a.dest == "width")
    assert width.default is None and width.help == "Narrow (4) / Wide (64) width"
    assert [a.dest for a in p._action_groups[-1]._group_actions] == ["width", "flat"]
    assert values(Wide, p.parse_args([])) == {}  # the class's own default applies
    assert values(Wide, p.parse_args(["--width", "8"])) == {"width": 8}


def test_a_flag_declared_two_ways_is_refused():
    @dataclass(frozen=True, kw_only=True)
    class Other:
        HELP_GROUP: ClassVar[str] = "other options"
        width: float = field(default=4.0, metadata=cli("width"))

    with pytest.raises(ValueError, match="--width is declared differently by Narrow, Other"):
        add_shared_options(argparse.ArgumentParser(), [("Narrow", Narrow), ("Other", Other)])


def test_only_fields_with_cli_metadata_are_options():
    assert [f.name for f in cli_fields(Wide)] == ["width"]
    assert "hidden" not in [f.name for f in cli_fields(Toy)]
