"""Typed model options: one frozen dataclass per model, checked when built, written to config.json.

A field declared ``field(default=..., metadata=cli("help", ...))`` (lgrin_edge/options_cli.py) is also an
option of the train command: the field states its name, type, default, choices and help once, for both.

``from_config`` is the one door from a plain dict (keyword arguments, a checkpoint's config.json) to the
options: an unknown or misspelt key is refused with the valid ones named, so it never reaches a
checkpoint. Values are checked against the field's type; tuples given as lists (JSON) become tuples.
"""

from __future__ import annotations

import argparse
import difflib
import numbers
import types
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from lgrin_edge.options_cli import values

OptionsT = TypeVar("OptionsT", bound="ModelOptions")


class OptionError(ValueError):
    """A model option that is unknown, missing or has an impossible value."""


@dataclass(frozen=True, kw_only=True)
class ModelOptions:
    """The graph shape every model needs; subclasses add the model's own options, with defaults."""

    num_nodes: int
    in_features: int
    num_classes: int

    SHAPE: ClassVar[tuple[str, ...]] = ("num_nodes", "in_features", "num_classes")
    HELP_GROUP: ClassVar[str] = "baseline options"  # where the train command's --help lists the options
    # Options config.json holds only when not None, so a run that leaves them unset writes the config it
    # wrote before they existed.
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):
            # frozen: the normalised value (a list given for a tuple) is set once, here
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name), hints[f.name]))
        for key in self.SHAPE:
            if getattr(self, key) < 1:
                raise OptionError(f"{key} must be a positive integer, got {getattr(self, key)}")

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The model's own options, in declaration order (the order config.json lists them in)."""
        return tuple(f.name for f in fields(cls) if f.name not in cls.SHAPE)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        own = (f for f in fields(cls) if f.name not in cls.SHAPE)
        return {f.name: f.default for f in own if f.default is not MISSING}

    @classmethod
    def from_config(cls: type[OptionsT], model: str, config: Mapping[str, Any]) -> OptionsT:
        """Options of ``model`` from a dict; OptionError names an unknown or missing key."""
        valid = (*cls.SHAPE, *cls.option_names())
        for key in config:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise OptionError(f"{model} has no option {key!r}{hint}; valid options: {', '.join(valid)}")
        missing = [k for k in cls.SHAPE if k not in config]
        if missing:
            raise OptionError(f"create_model({model!r}) needs {', '.join(missing)}")
        return cls(**config)

    @classmethod
    def config_from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        """The options a parsed command line sets; those it leaves at None keep the model's default."""
        return values(cls, args)

    def to_config(self) -> dict[str, Any]:
        """The dict config.json holds: the model's options, then the graph shape."""
        names = (*self.option_names(), *self.SHAPE)
        return {
            k: getattr(self, k)
            for k in names
            if k not in self.WRITTEN_WHEN_SET or getattr(self, k) is not None
        }


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the type ``hint`` (bool, int, float, str, Literal, tuple, X | None)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        if value not in args:
            raise OptionError(f"{name} must be one of {', '.join(args)}; got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = (a for a in args if a is not type(None))
        return _coerce(name, value, inner)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise OptionError(f"{name} must be a sequence, got {value!r}")
        fixed = not (len(args) == 2 and args[1] is Ellipsis)
        if fixed and len(value) != len(args):
            raise OptionError(f"{name} must be {len(args)} values, got {value!r}")
        return tuple(_coerce(name, v, args[i] if fixed else args[0]) for i, v in enumerate(value))
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint in (int, float):
        # a float option takes an integer too (and keeps it: 0 stays 0 in config.json)
        kind = numbers.Integral if hint is int else numbers.Real
        ok = isinstance(value, kind) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise OptionError(f"{name} must be {hint.__name__}, got {value!r}")
    return int(value) if hint is int else value
