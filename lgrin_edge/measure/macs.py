"""Multiply-accumulates per inference of L-GrIN (the compute floor's numerator)."""

from __future__ import annotations


def lgrin_macs(config: dict) -> int:
    """MACs of one L-GrIN inference (batch 1) for a model config (see models/lgrin.py).

    Counts the matrix products: relu(A) H, the G*conv MLPs (or linear projections), the learned pooling
    H^T p and the classifier. Max/mean reductions and the 1-hop max are comparisons/additions, not MACs.
    """
    m, p, c = config["num_nodes"], config["in_features"], config["num_classes"]
    eta = tuple(config.get("eta", (128, 64)))
    inception = config.get("inception", True)
    gstar = config.get("conv", "gstar") == "gstar"
    widths = eta if inception else eta[:1]
    f, total = p, 0
    for _ in range(config.get("num_layers", 2)):
        total += m * m * f
        for w in widths:
            total += m * f * w + (m * w * w if gstar else 0)
        f = sum(widths) + (f if inception else 0)
    pooling = config.get("pooling", "learned")
    pooled = {"learned": 3 * f, "max": f, "mean": f}.get(pooling, config.get("sort_k", 10) * f)
    if pooling == "learned":
        total += m * f
    return total + pooled * c
