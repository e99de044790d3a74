"""Command-line options from options dataclasses: a field states an option once, for every use.

A field declared ``field(default=..., metadata=cli("what it does", ...))`` carries its help text and what
argparse needs beyond the field's type (another flag than ``--name``, a lower bound, choices, a metavar).
From the field argparse gets the flag, type, choices, nargs and default, and a parsed namespace gives
back the field's value:

- ``int`` / ``float``: an integer >= ``low`` (plain ``int`` without one), a finite number (>= ``low``);
- ``Literal[...]``: its values are the choices; ``str`` takes ``choices=``;
- ``tuple[X, X]``: that many values, ``tuple[X, ...]``: any number; ``X | None``: as X;
- ``bool``: a switch, ``--name`` for a default of False, ``--no-name`` (negated) for True;
- a field without a default is absent from the namespace unless given (argparse.SUPPRESS).
"""

from __future__ import annotations

import argparse
import math
import types
from collections.abc import Iterable, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from lgrin_edge.cli import at_least, finite_float

_KEY = "lgrin_edge.options_cli"  # the metadata entry cli() writes


@dataclass(frozen=True)
class Cli:
    """What argparse needs for a field beyond its name, type and default."""

    help: str | None = None
    flag: str | None = None  # default: --name (--no-name for a bool that defaults to True)
    low: float | None = None
    strict: bool = False  # with low: > low, not >= low
    choices: tuple[str, ...] | None = None
    metavar: str | tuple[str, ...] | None = None


def cli(help: str | None = None, **options: Any) -> dict[str, Cli]:
    """Metadata that makes a dataclass field a command-line option (``options``: :class:`Cli`'s other
    fields); ``help`` None: the option has no help line."""
    return {_KEY: Cli(help, **options)}


@dataclass(frozen=True)
class CliField:
    """One option field of a dataclass, with its type resolved."""

    name: str
    hint: Any
    default: Any
    cli: Cli

    @property
    def negated(self) -> bool:
        """A switch that turns the field off: --no-name."""
        return _plain(self.hint) is bool and self.default is True

    @property
    def flag(self) -> str:
        return self.cli.flag or ("--no-" if self.negated else "--") + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        """The namespace attribute argparse stores the option in."""
        return self.flag[2:].replace("-", "_")

    def value(self, args: argparse.Namespace) -> Any:
        """The field's value from a parsed namespace (None where it holds none)."""
        value = getattr(args, self.dest, None)
        if value is None:
            return None
        if self.negated:
            return not value
        return tuple(value) if isinstance(value, list) else value

    def arguments(self) -> dict[str, Any]:
        """argparse's keywords for the option (default and help included)."""
        kwargs: dict[str, Any] = {"default": argparse.SUPPRESS if self.default is MISSING else self.default}
        if self.cli.help is not None:
            kwargs["help"] = self.cli.help
        if _plain(self.hint) is bool:
            return {**kwargs, "action": "store_true", "default": False}
        kwargs.update(_value_arguments(_plain(self.hint), self.cli))
        if self.cli.metavar is not None:
            kwargs["metavar"] = self.cli.metavar
        return kwargs


def cli_fields(cls: type) -> tuple[CliField, ...]:
    """The fields of dataclass ``cls`` that are options (:func:`cli`), in declaration order."""
    hints = get_type_hints(cls)
    return tuple(
        CliField(f.name, hints[f.name], f.default, f.metadata[_KEY])
        for f in fields(cls)
        if _KEY in f.metadata
    )


def values(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The option fields of ``cls`` a parsed namespace gives a value (None: the field's own default)."""
    found = ((f.name, f.value(args)) for f in cli_fields(cls))
    return {name: value for name, value in found if value is not None}


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    names: Iterable[str] | None = None,
    omit: Iterable[str] = (),
) -> None:
    """Add the options of dataclass ``cls`` in its order: only ``names`` if given, none of ``omit``."""
    wanted, left_out = None if names is None else set(names), set(omit)
    for f in cli_fields(cls):
        if (wanted is None or f.name in wanted) and f.name not in left_out:
            parser.add_argument(f.flag, **f.arguments())


def add_shared_options(parser: argparse.ArgumentParser, owners: Sequence[tuple[str, type]]) -> None:
    """Add the options of several dataclasses, ``(label, cls)`` each, in argument groups titled by each
    class's ``HELP_GROUP``. A flag that several classes declare is one option; where their defaults
    differ, its default is None (each class's own) and its help names them: "A (1) / B (2) <help>"."""
    declared: dict[str, list[tuple[str, CliField]]] = {}  # by flag, in the order first declared
    group_of: dict[str, str] = {}
    for label, cls in owners:
        for f in cli_fields(cls):
            declared.setdefault(f.flag, []).append((label, f))
            group_of.setdefault(f.flag, cls.HELP_GROUP)
    groups = {title: parser.add_argument_group(title) for title in dict.fromkeys(group_of.values())}
    for flag, declarations in declared.items():
        groups[group_of[flag]].add_argument(flag, **_shared_arguments(declarations))


def _shared_arguments(declarations: list[tuple[str, CliField]]) -> dict[str, Any]:
    """argparse's keywords for one flag that each ``(label, field)`` declares."""
    (_, first), *others = declarations
    kwargs = first.arguments()
    if any((f.hint, f.cli) != (first.hint, first.cli) for _, f in others):
        labels = ", ".join(label for label, _ in declarations)
        raise ValueError(f"{first.flag} is declared differently by {labels}")
    if any(f.default != first.default for _, f in others):
        each = " / ".join(f"{label} ({f.default})" for label, f in declarations)
        kwargs = {**kwargs, "default": None, "help": f"{each} {kwargs.get('help', '')}".rstrip()}
    return kwargs


def _plain(hint: Any) -> Any:
    """``hint`` without ``| None``."""
    if get_origin(hint) in (Union, types.UnionType):
        (hint,) = (a for a in get_args(hint) if a is not type(None))
    return hint


def _value_arguments(hint: Any, cli: Cli) -> dict[str, Any]:
    """argparse's type, choices and nargs for a value of type ``hint``."""
    kwargs: dict[str, Any] = {}
    if get_origin(hint) is tuple:
        items = get_args(hint)
        variable = len(items) == 2 and items[1] is Ellipsis
        kwargs["nargs"] = "*" if variable else len(items)
        hint = items[0]
    if get_origin(hint) is Literal:
        kwargs["choices"] = get_args(hint)
    elif cli.choices is not None:
        kwargs["choices"] = cli.choices
    elif hint is int:
        kwargs["type"] = int if cli.low is None else at_least(int(cli.low))
    elif hint is float:
        kwargs["type"] = finite_float(-math.inf if cli.low is None else float(cli.low), cli.strict)
    elif hint is not str:
        kwargs["type"] = hint  # e.g. Path
    return kwargs
