"""The runner contract every exported file's runner keeps (export/runner.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lgrin_edge.export.runner import Runner, check_graphs

M, P, C = 5, 3, 4


class _Linear(Runner):
    """Logits = per-graph sums times a fixed matrix; records the chunk sizes it was given."""

    def __init__(self, batch: int | None = None, max_batch: int | None = None) -> None:
        self.input_shape, self.num_classes = (M, P), C
        self.batch, self.max_batch = batch, max_batch
        self.weights = np.arange(P * C, dtype=np.float32).reshape(P, C)
        self.chunks: list[int] = []

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        assert chunk.dtype == np.float32 and chunk.flags.c_contiguous
        if self.batch is not None:
            assert len(chunk) == self.batch  # a fixed-batch file only ever sees its own batch
        self.chunks.append(len(chunk))
        return chunk.sum(1) @ self.weights


def _graphs(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, M, P)).astype(np.float64)  # float64: converted


@pytest.mark.parametrize(
    ("batch", "max_batch", "chunks"), [(None, None, [7]), (None, 3, [3, 3, 1]), (3, None, [3, 3, 3])]
)
def test_any_batch_runs_in_the_files_chunks_with_the_same_logits(batch, max_batch, chunks) -> None:
    x = _graphs(7)
    runner = _Linear(batch, max_batch)
    got = runner(x)
    assert got.dtype == np.float32 and got.shape == (7, C)
    np.testing.assert_allclose(got, x.sum(1) @ runner.weights, rtol=1e-5)
    assert runner.chunks == chunks


@pytest.mark.parametrize("batch", [None, 4])
def test_an_empty_batch_gives_empty_logits_without_running(batch) -> None:
    runner = _Linear(batch)
    assert runner(np.zeros((0, M, P), np.float32)).shape == (0, C)
    assert runner.chunks == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((M, P)), r"shape \(batch, 5, 3\)"),
        (np.zeros((2, M, P + 1)), "shape"),
        (np.zeros((2, M, P), complex), "real numeric"),
        (np.full((2, M, P), "a"), "real numeric"),
        (np.full((2, M, P), np.nan), "NaN or infinity"),
        (np.full((2, M, P), -np.inf), "finite"),
    ],
)
def test_bad_input_is_refused_with_one_line(bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        _Linear()(bad)


def test_open_dimensions_accept_any_size() -> None:
    assert check_graphs(np.zeros((2, 9, P)), (None, P)).shape == (2, 9, P)
    with pytest.raises(ValueError, match=r"\(batch, any, 3\)"):
        check_graphs(np.zeros((2, 9, P + 1)), (None, P))
