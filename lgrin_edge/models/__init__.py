"""The models the toolkit trains, built by name: ``create_model(name, **config)`` (registry.py)."""

from __future__ import annotations

# Importing a model's module registers it; registration order is MODEL_NAMES' order (the CLI's choices):
# L-GrIN, then the baselines.
# isort: off
from lgrin_edge.models.lgrin import LGrIN
from lgrin_edge.models.blstm import BLSTM
from lgrin_edge.models.senet import SENet
from lgrin_edge.models.gcn import GCN

# isort: on
from lgrin_edge.models.common import GraphModel, count_parameters
from lgrin_edge.models.options import ModelOptions, OptionError
from lgrin_edge.models.registry import (
    create_model,
    model_class,
    model_names,
    model_options,
    preset_options,
    register_model,
)

MODEL_NAMES = model_names()  # each model's own name (config.json's "model"); presets: model_names(True)

__all__ = [
    "BLSTM",
    "GCN",
    "MODEL_NAMES",
    "GraphModel",
    "LGrIN",
    "ModelOptions",
    "OptionError",
    "SENet",
    "count_parameters",
    "create_model",
    "model_class",
    "model_names",
    "model_options",
    "preset_options",
    "register_model",
]
