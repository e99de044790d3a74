"""What the fixed-batch formats (TFLite, ExecuTorch, TFLite Micro) share on both sides.

Export: the precisions, the (precision, batch) check and the fixed-shape example. Running: the contract
every runner of an exported file keeps, (B, M, P) real, finite input -> (B, C) float32 logits for any B
(run in chunks of the file's batch, the last one zero-padded), and the affine int8 (de)quantisation of
full-integer inputs and outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

PRECISIONS = ("fp32", "int8")


def check_export_request(precision: str, batch: int) -> None:
    """ValueError unless ``precision`` is one of PRECISIONS and ``batch`` a positive integer."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if int(batch) < 1:
        raise ValueError(f"batch must be a positive integer, got {batch}")


def fixed_batch_example(calibration: np.ndarray, batch: int) -> torch.Tensor:
    """The first ``batch`` calibration graphs (wrapping around if fewer) as the fixed-shape example."""
    idx = np.arange(batch) % len(calibration)
    return torch.from_numpy(np.ascontiguousarray(calibration[idx], dtype=np.float32))


def quantise_affine(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    """x / scale + zero_point in the integer ``dtype``, rounded half away from zero as TFLite's QUANTIZE
    kernel does, saturated to the dtype's range."""
    info = np.iinfo(dtype)
    q = np.sign(x) * np.floor(np.abs(x / scale) + 0.5) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantise_affine(y: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((y.astype(np.float32) - zero_point) * scale).astype(np.float32)


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
