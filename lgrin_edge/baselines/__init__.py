"""Practitioners' baselines: aeon's convolution classifiers (MiniRocket, MultiRocket, Hydra) trained by
``python -m lgrin_edge.train --model minirocket`` through the same folds, test split and run folder as the
graph models, their fitted arrays saved without pickle (rocket.py), measured in their own runtime.

This module names them without importing aeon; rocket.py fits and loads them, train.py runs the protocol.
"""

from __future__ import annotations

# --model name -> (aeon's classifier, the runtime its transform runs in)
BASELINES: dict[str, tuple[str, str]] = {
    "minirocket": ("MiniRocketClassifier", "numba"),
    "multirocket": ("MultiRocketClassifier", "numba"),
    "hydra": ("HydraClassifier", "torch"),
}
# The graph models' file name (checkpoint.WEIGHTS): a command that loads a run reaches config.json's model
# name, and refuses it with not_a_graph_model, before it reads any weights.
FITTED = "model.safetensors"


def not_a_graph_model(name: str) -> str:
    """Why a baseline's run has no export, explanation or transfer: the line that refuses them."""
    return (
        f"{name} is a practitioners' baseline fitted by aeon ({BASELINES[name][0]}), not a graph model: "
        "export, explain and --init-from apply to lgrin, blstm, senet and gcn runs; its accuracy, size and "
        "latency are in its metrics.json and pytest --benchmark-only benchmarks/test_practitioners.py"
    )


__all__ = ["BASELINES", "FITTED", "not_a_graph_model"]
