"""What the exporters share on both sides.

Export: the precisions, the (precision, batch) check, the fixed-shape example, tool versions. Running:
:class:`Runner`, the contract every runner of an exported file keeps (onnxruntime, TensorRT, LiteRT,
ExecuTorch, the C runtime), and the affine int8 (de)quantisation of full-integer inputs and outputs.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

import numpy as np
import torch

PRECISIONS = ("fp32", "int8")


def package_version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (for manifests), None if it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


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


def check_graphs(x: np.ndarray, input_shape: tuple[int | None, ...]) -> np.ndarray:
    """``x`` as contiguous float32 (B, M, P), or ValueError naming what is wrong with it. An entry of
    ``input_shape`` that is None accepts any size."""
    x = np.asarray(x)
    if x.ndim != 3 or any(
        d is not None and d != have for d, have in zip(input_shape, x.shape[1:], strict=True)
    ):
        want = ", ".join("any" if d is None else str(d) for d in input_shape)
        raise ValueError(f"expected input of shape (batch, {want}), got {x.shape}")
    # dtype kinds: signed, unsigned, float (not bool, complex, object, ...); a check that costs
    # nanoseconds, as this runs before every batch-1 inference
    if x.dtype.kind not in "iuf":
        raise ValueError(f"expected a real numeric input, got dtype {x.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueError("input must be finite: it contains NaN or infinity")
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


class Runner:
    """The contract of every runner of an exported file: (B, M, P) real, finite input -> (B, C) float32
    logits for any B >= 0 (B = 0 gives an empty (0, C)).

    A subclass sets ``input_shape`` (M, P), ``num_classes``, and ``batch``: the file's fixed batch, run in
    chunks with the last one zero-padded, or None for a file that takes any batch, run in chunks of
    ``max_batch`` where the runtime has a largest batch. It implements :meth:`_invoke` on one chunk.
    """

    input_shape: tuple[int | None, ...]
    num_classes: int
    batch: int | None = None
    max_batch: int | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Logits for every graph in ``x``."""
        x = check_graphs(x, self.input_shape)
        if self.batch is not None:
            return run_fixed_batch(x, self.batch, self.num_classes, self._invoke)
        step = self.max_batch or max(len(x), 1)
        out = np.empty((len(x), self.num_classes), dtype=np.float32)
        for start in range(0, len(x), step):
            out[start : start + step] = self._invoke(x[start : start + step])
        return out

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        """(b, M, P) float32 -> (b, C) logits for one chunk (b = ``batch`` for a fixed-batch file)."""
        raise NotImplementedError

    def facts(self) -> dict:
        """What the runtime chose or needs for this file on this machine (the manifest records it)."""
        return {}
