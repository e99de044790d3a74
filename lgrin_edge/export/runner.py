"""The contract every runner of an exported file keeps: (B, M, P) real, finite input -> (B, C) float32
logits, any B, even where the file has a fixed batch (run in chunks, the last one zero-padded)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def check_graphs(x: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as float32 (B, M, P), or ValueError naming what is wrong with it."""
    x = np.asarray(x)
    if x.ndim != 3 or tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"expected input (B, {', '.join(map(str, input_shape))}), got {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"expected real numeric input, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("input contains NaN or infinite values")
    return x


def run_fixed_batch(
    x: np.ndarray, batch: int, num_classes: int, run: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Logits of every graph in checked ``x`` through ``run`` ((batch, M, P) -> (batch, C)), in chunks."""
    n = x.shape[0]
    out = np.empty((n, num_classes), dtype=np.float32)
    for start in range(0, n, batch):
        chunk = x[start : start + batch]
        rows = len(chunk)
        if rows < batch:
            # Zero rows only fill the fixed shape; samples are independent, so they affect nothing.
            chunk = np.concatenate([chunk, np.zeros((batch - rows, *x.shape[1:]), np.float32)])
        out[start : start + rows] = run(np.ascontiguousarray(chunk))[:rows]
    return out
