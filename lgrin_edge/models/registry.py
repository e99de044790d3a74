"""The model registry: ``@register_model(name)`` on a model class, ``create_model(name, **config)``.

A model's own name (the innermost decorator) is the one config.json records; a name registered with
fixed options (``@register_model("senet-paper", preset="paper")``) is a preset of that model: it builds
the same class with those options, and its checkpoints record the model's own name and the options.
Each name maps to its model's options class (``model_options``), which states the model's options for
config.json and the train command alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from lgrin_edge.baselines import BASELINES, not_a_graph_model
from lgrin_edge.models.options import OptionError

if TYPE_CHECKING:
    from lgrin_edge.models.common import GraphModel
    from lgrin_edge.models.options import ModelOptions

M = TypeVar("M", bound="type[GraphModel]")


@dataclass(frozen=True)
class _Entry:
    cls: type[GraphModel]
    fixed: Mapping[str, Any] = field(default_factory=dict)


_ENTRIES: dict[str, _Entry] = {}


def register_model(name: str, **fixed: Any) -> Callable[[M], M]:
    """Class decorator: ``create_model(name)`` builds the class (with the options ``fixed``, for a preset).

    Without ``fixed``, ``name`` becomes the class's ``name``; a preset needs that registration first
    (so it is the outer decorator).
    """

    def register(cls: M) -> M:
        if name in _ENTRIES:
            raise ValueError(f"model name {name!r} is registered twice")
        if fixed:
            if "name" not in cls.__dict__:
                raise ValueError(f"preset {name!r}: register {cls.__name__}'s own name first")
            cls.Options.from_config(name, {**dict.fromkeys(cls.Options.SHAPE, 1), **fixed})
        elif "name" in cls.__dict__:
            raise ValueError(f"{cls.__name__} is already registered as {cls.name!r}")
        else:
            cls.name = name
        _ENTRIES[name] = _Entry(cls, dict(fixed))
        return cls

    return register


def model_names(presets: bool = False) -> tuple[str, ...]:
    """Registered names in registration order: the models' own names, and with ``presets`` the presets."""
    return tuple(n for n, e in _ENTRIES.items() if presets or not e.fixed)


def model_class(name: str) -> type[GraphModel]:
    """The class ``create_model(name)`` builds."""
    return _entry(name).cls


def model_options(name: str) -> type[ModelOptions]:
    """The options class of the model ``create_model(name)`` builds."""
    return _entry(name).cls.Options


def preset_options(name: str) -> dict[str, Any]:
    """The options the preset ``name`` fixes; none for a model's own name."""
    return dict(_entry(name).fixed)


def create_model(name: str, **config: Any) -> GraphModel:
    """Build a registered model; config needs num_nodes, in_features, num_classes plus model options."""
    entry = _entry(name)
    for key, value in entry.fixed.items():
        if key in config and config[key] != value:
            raise OptionError(
                f"{name} is {entry.cls.name} with {key}={value!r}; for {key}={config[key]!r} "
                f"use create_model({entry.cls.name!r}, {key}=...)"
            )
    return entry.cls(entry.cls.Options.from_config(name, {**entry.fixed, **config}))


def _entry(name: str) -> _Entry:
    if name in BASELINES:  # a run of one names it in config.json: say why it builds no graph model
        raise ValueError(not_a_graph_model(name))
    if name not in _ENTRIES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(model_names(presets=True))}")
    return _ENTRIES[name]
