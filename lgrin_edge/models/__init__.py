"""Model registry: ``create_model(name, **config)`` for every model the toolkit trains."""

from __future__ import annotations

from lgrin_edge.models.blstm import BLSTM
from lgrin_edge.models.common import GraphModel, count_parameters
from lgrin_edge.models.gcn import GCN
from lgrin_edge.models.lgrin import LGrIN
from lgrin_edge.models.senet import SENet

REGISTRY: dict[str, type[GraphModel]] = {"lgrin": LGrIN, "blstm": BLSTM, "senet": SENet, "gcn": GCN}
MODEL_NAMES = tuple(REGISTRY)
REQUIRED = ("num_nodes", "in_features", "num_classes")


def create_model(name: str, **config) -> GraphModel:
    """Build a registered model; config needs num_nodes, in_features, num_classes plus model options."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    missing = [k for k in REQUIRED if k not in config]
    if missing:
        raise ValueError(f"create_model({name!r}) needs {', '.join(missing)}")
    for key in REQUIRED:
        if int(config[key]) < 1:
            raise ValueError(f"{key} must be a positive integer, got {config[key]}")
    return REGISTRY[name](config)


__all__ = ["MODEL_NAMES", "REGISTRY", "GraphModel", "count_parameters", "create_model"]
