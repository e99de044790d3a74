"""Graph diagnostics of relu(A) on matrices whose answers are known by construction."""

import numpy as np

from lgrin_edge.train.graph_stats import caption, degree_line, graph_diagnostics


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


def test_per_diagonal_overlap_sees_a_band_whose_members_the_init_chose():
    """A prior-made band kept the init's largest entries at each distance: the whole-matrix overlap
    reads low (the band is not where the init's largest are), the per-diagonal one reads 1."""
    rng = np.random.default_rng(1)
    m = 40
    init = rng.normal(size=(m, m))
    offset = np.abs(np.arange(m)[:, None] - np.arange(m)[None, :])
    band = np.where((offset <= 3) & (init > 0.5), 1.0, 0.0)
    d = graph_diagnostics(band, init)
    assert d["init_overlap_by_offset"] == 1.0 > 0.5 > d["init_overlap"]
    assert d["chance_overlap_by_offset"] < 0.5
    fresh = np.where((offset <= 3) & (rng.normal(size=(m, m)) > 0.5), 1.0, 0.0)
    shuffled = graph_diagnostics(fresh, init)
    assert abs(shuffled["init_overlap_by_offset"] - shuffled["chance_overlap_by_offset"]) < 0.15
    assert "per diagonal" in caption(d)


def test_prior_alone_mass_is_a_share_of_the_learned_mass():
    learned = np.eye(6) * 2.0
    prior = np.eye(6) * 0.5 - 1.0 * (1 - np.eye(6))  # only the diagonal stays positive, at a quarter
    d = graph_diagnostics(learned, prior=prior)
    assert d["prior_alone_mass"] == 0.25
    assert "eq. 8 alone" in caption(d) and "25.0%" in caption(d)
    assert "prior_alone_mass" not in graph_diagnostics(learned)


def _overlap_by_masks(edges: np.ndarray, init: np.ndarray, strata: np.ndarray) -> tuple[float, float]:
    """The overlap as first written: a mask over the whole matrix for each stratum (M x M work per
    diagonal), kept as the reference the faster diagonal-by-diagonal reading must equal."""
    inter, expected, n = 0, 0.0, int(edges.sum())
    for label in np.unique(strata):
        where = strata == label
        k = int(edges[where].sum())
        if k:
            top = np.zeros(int(where.sum()), dtype=bool)
            top[np.argsort(init[where])[::-1][:k]] = True
            inter += int((top & edges[where]).sum())
            expected += k * k / where.sum()
    return inter / (2 * n - inter), float(expected / (2 * n - expected))


def test_the_overlaps_equal_the_whole_matrix_masks_exactly():
    rng = np.random.default_rng(2)
    for m, ties in [(1, False), (2, False), (7, True), (23, False), (40, True)]:
        init = rng.normal(size=(m, m))
        if ties:  # equal initial entries: the same ones must win
            init = np.round(init)
        adj = np.where(rng.random((m, m)) < 0.3, rng.random((m, m)), 0.0)
        adj[0, 0] = 1.0  # at least one edge
        d = graph_diagnostics(adj, init)
        idx = np.arange(m)
        edges = adj > 0
        whole = _overlap_by_masks(edges, init, np.zeros((m, m), dtype=int))
        by_offset = _overlap_by_masks(edges, init, idx[:, None] - idx[None, :])
        assert (d["init_overlap"], d["chance_overlap"]) == whole
        assert (d["init_overlap_by_offset"], d["chance_overlap_by_offset"]) == by_offset


def test_diagnostics_report_the_degrees_a_deployed_max_pool_reads() -> None:
    m = 30
    adj = (np.abs(np.arange(m)[:, None] - np.arange(m)[None, :]) <= 2).astype(np.float32)
    adj[7] = 0.5  # a hub: every node
    d = graph_diagnostics(adj)["degrees"]
    assert (d["max_degree"], d["median_degree"], d["widest_rows"], d["hub_rows"]) == (30, 5.0, [7], [7])
    assert d["max_pool_rows"]["table"] == 30 * 30 and d["edges"] == int((adj > 0).sum())
    line = degree_line({"degrees": d})
    assert line.startswith("graph: K = 30 neighbours at most (row 7), median degree 5")
    assert "hub rows (> 2x the median) 7" in line
    assert "no hub" in degree_line(graph_diagnostics(np.eye(m) + np.eye(m, k=1)))
