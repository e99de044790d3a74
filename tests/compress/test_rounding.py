"""Error-compensated int8 rounding: on the grid a backend reproduces, and better than nearest rounding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.compress.rounding import QMAX, gptq_int8, round_linear_weights, row_scales


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
    nearest = np.clip(np.rint(w / row_scales(w)[:, None]), -QMAX, QMAX) * row_scales(w)[:, None]
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
    again = np.clip(np.rint(values / row_scales(values)[:, None]), -QMAX, QMAX)
    np.testing.assert_array_equal(again, q)


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
            steps = w / row_scales(w)[:, None]
            np.testing.assert_allclose(steps, np.rint(steps), atol=1e-3)
    x = torch.from_numpy(calibration)
    with torch.no_grad():
        ref, out = net(x), rounded(x)
    assert float((out - ref).norm() / ref.norm()) < 0.02
