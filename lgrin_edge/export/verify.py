"""Verification of an artifact in its own runtime against the PyTorch fp32 model."""

from __future__ import annotations

import numpy as np

from lgrin_edge.export.tolerances import VERIFY


def compare(logits: np.ndarray, reference: np.ndarray, y: np.ndarray, precision: str) -> dict:
    """Agreement, logit error and accuracy of ``logits`` versus the fp32 reference; ``verified`` flag."""
    if logits.shape != reference.shape:
        raise ValueError(f"runtime returned logits of shape {logits.shape}, expected {reference.shape}")
    finite = bool(np.isfinite(logits).all())
    agreement = float(np.mean(logits.argmax(1) == reference.argmax(1)))
    diff = float(np.max(np.abs(logits - reference))) if finite else float("inf")
    tol = VERIFY[precision]
    # Written so that NaN fails: a comparison with NaN is False.
    ok = finite and agreement >= tol["min_agreement"] and diff <= tol.get("max_abs_diff", float("inf"))
    return {
        "verified": bool(ok),
        "top1_agreement": agreement,
        "max_abs_diff": diff,
        "accuracy": float(np.mean(logits.argmax(1) == y)),
        "tolerance": tol,
    }
