"""Error-compensated int8 rounding: on the grid a backend reproduces, and better than nearest rounding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.compress.rounding import (
    QMAX,
    gptq_int8,
    round_linear_weights,
    symmetric_int8,
    symmetric_scales,
)


def _correlated(n: int, d: int, seed: int) -> np.ndarray:
    """Inputs with unequal, correlated columns (as node features are), where rounding order matters."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) * np.geomspace(3.0, 0.05, d)[None, :]
    return rng.normal(size=(n, d)) @ mix


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gptq_beats_nearest_rounding_on_the_output(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(24, 40))
    x = _correlated(2000, 40, seed)
    q, scale = gptq_int8(w, x.T @ x)
    q_near, s_near = symmetric_int8(w)
    nearest = q_near * s_near[:, None]
    err_gptq = np.linalg.norm(x @ (w - q * scale[:, None]).T)
    err_nearest = np.linalg.norm(x @ (w - nearest).T)
    assert err_gptq < 0.8 * err_nearest, (err_gptq, err_nearest)


def test_scales_are_pinned_so_a_backend_requantises_exactly() -> None:
    rng = np.random.default_rng(3)
    w = rng.normal(size=(16, 12))
    w[5] = 0.0  # a dead output channel stays zero
    x = _correlated(500, 12, 3)
    q, scale = gptq_int8(w, x.T @ x)
    assert q.dtype == np.int8 and np.abs(q.astype(int)).max() <= QMAX
    assert not q[5].any()
    live = np.arange(16) != 5
    assert (np.abs(q[live].astype(int)).max(axis=1) == QMAX).all()
    np.testing.assert_allclose(scale[live], np.abs(w[live]).max(axis=1) / QMAX)
    values = (q * scale[:, None]).astype(np.float32)
    for dtype in (np.float64, np.float32):  # the C runtime's rule, and ONNX's in float32
        np.testing.assert_array_equal(symmetric_int8(values, 0, QMAX, dtype)[0], q)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("axis", "qmax"), [(None, QMAX), (0, QMAX), (1, QMAX), (1, 64)])
def test_symmetric_int8_per_slice_with_zero_slices(axis: int | None, qmax: int, dtype: type) -> None:
    w = np.random.default_rng(4).normal(size=(6, 5)).astype(np.float32)
    w[2], w[:, 3] = 0.0, 0.0  # a zero row and a zero column: scale 1, values 0
    q, scale = symmetric_int8(w, axis, qmax, dtype)
    assert q.dtype == np.int8 and scale.dtype == dtype
    assert scale.shape == {None: (), 0: (6,), 1: (5,)}[axis]
    per = scale if axis is None else np.expand_dims(scale, 1 - axis)
    assert (np.abs(q * per - w) <= per / 2 + 1e-7).all()
    top = np.abs(q.astype(int)).max(axis=None if axis is None else 1 - axis)
    zero = np.abs(w).max(axis=None if axis is None else 1 - axis) == 0
    assert (top[~zero] == qmax).all() and (top[zero] == 0).all() and (scale[zero] == 1).all()


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="H"):
        gptq_int8(np.ones((3, 4)), np.eye(5))


def test_round_linear_weights_keeps_the_function_and_the_rest() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4))
    calibration = np.random.default_rng(0).normal(size=(64, 5, 6)).astype(np.float32)
    rounded = round_linear_weights(net, calibration)
    for a, b in zip(net, rounded, strict=True):
        if isinstance(a, nn.Linear):
            assert not torch.equal(a.weight, b.weight)  # a copy was rounded, the original kept
            torch.testing.assert_close(a.bias, b.bias, rtol=0, atol=0)
            w = b.weight.detach().numpy()
            steps = w / symmetric_scales(w)[:, None]
            np.testing.assert_allclose(steps, np.rint(steps), atol=1e-3)
    x = torch.from_numpy(calibration)
    with torch.no_grad():
        ref, out = net(x), rounded(x)
    assert float((out - ref).norm() / ref.norm()) < 0.02
