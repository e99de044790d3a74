"""Graph diagnostics of relu(A) on matrices whose answers are known by construction."""

import numpy as np

from lgrin_edge.training.graph_stats import caption, graph_diagnostics


def test_a_chain_is_all_local_and_a_constant_matrix_is_uniform():
    m = 10
    idx = np.arange(m)
    chain = (np.abs(idx[:, None] - idx[None, :]) == 1).astype(float)
    d = graph_diagnostics(chain)
    assert d["edges"] == 18 and d["band_share"]["1"] == 1.0 and d["diagonal_share"] == 0.0
    flat = graph_diagnostics(np.ones((m, m)))
    assert flat["band_share"] == flat["uniform_band_share"]
    assert flat["uniform_band_share"]["1"] == (m + 2 * (m - 1)) / m**2


def test_init_overlap_tells_init_from_learned():
    rng = np.random.default_rng(0)
    init = rng.normal(size=(30, 30))
    kept = np.where(init > 1.0, init, 0.0)  # exactly the init's largest entries survive
    d = graph_diagnostics(kept, init)
    assert d["init_overlap"] == 1.0 and d["chance_overlap"] < 0.2
    other = graph_diagnostics(np.where(rng.normal(size=(30, 30)) > 1.0, 1.0, 0.0), init)
    assert other["init_overlap"] < 0.3
    assert "edge overlap" in caption(d)
