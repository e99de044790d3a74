"""What the learned graph relu(A) holds: edges, locality, and how much of it the initialisation explains."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from lgrin_edge.deploy.folded import GraphCost, degree_summary

BANDS = (1, 2, 5)


def graph_diagnostics(
    adj: np.ndarray, init: np.ndarray | None = None, prior: np.ndarray | None = None
) -> dict:
    """Diagnostics of a learned relu(A) (M, M), against a uniform matrix and the initial A (if given).

    ``band_share[k]``: share of relu(A)'s mass within |i - j| <= k; ``uniform_band_share[k]`` the same for
    a matrix with equal entries (the share of such positions). ``init_overlap``: Jaccard overlap of the
    final edge set with the same number of largest entries of the initial A; ``chance_overlap`` what two
    random edge sets of that size would share. Near chance, the data shaped the graph; near 1, the
    initialisation did. ``init_overlap_by_offset`` (and its chance) makes the same comparison on each
    diagonal i - j separately (see ``_overlap``). ``degrees``: the neighbour counts a deployed model's
    max pool reads (K, the median and mean degree, the hub rows; deploy/folded.py GraphCost).
    """
    a = np.maximum(np.asarray(adj, np.float64), 0)
    m = a.shape[0]
    dist = np.abs(np.arange(m)[:, None] - np.arange(m)[None, :])
    mass = a.sum()
    edges = a > 0
    n_edges = int(edges.sum())
    out: dict = {
        "nodes": m,
        "edges": n_edges,
        "mean_degree": n_edges / m,
        "diagonal_share": float(np.trace(a) / mass) if mass > 0 else 0.0,
        "band_share": {str(k): float(a[dist <= k].sum() / mass) if mass > 0 else 0.0 for k in BANDS},
        "uniform_band_share": {str(k): float((dist <= k).mean()) for k in BANDS},
        "degrees": GraphCost.of(a).to_dict(),
    }
    if init is not None and n_edges:
        init = np.asarray(init, np.float64)
        out["init_overlap"], out["chance_overlap"] = _overlap([(edges.ravel(), init.ravel())])
        out["init_overlap_by_offset"], out["chance_overlap_by_offset"] = _overlap(_diagonals(edges, init))
    if prior is not None:
        alone = np.maximum(np.asarray(prior, np.float64), 0)
        out["prior_alone_mass"] = float(alone.sum() / mass) if mass > 0 else 0.0
    return out


def _diagonals(edges: np.ndarray, init: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(edges, init) of each diagonal, by offset i - j from -(M-1) to M-1, each read down its rows:
    views, so the M x M matrix is read once in all (a mask per offset would read it 2M - 1 times)."""
    m = edges.shape[0]
    for d in range(m - 1, -m, -1):  # numpy's offset is j - i
        yield np.diagonal(edges, d), np.diagonal(init, d)


def _overlap(strata: Iterable[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Jaccard overlap of the edge set with the initial A's largest entries, taken per stratum.

    ``strata`` are (edges, init) of disjoint sets of positions that cover the matrix. In each the k
    largest initial entries are compared with its k edges. Per diagonal offset i - j this asks whether
    the start decided *which* entries at a given distance survived, after eq. 8's prior has decided how
    many: a band the prior made can otherwise look data-shaped while its members are the draw's largest.
    Returns (overlap, the overlap two random edge sets with the same per-stratum sizes would have).
    """
    inter, expected, n = 0, 0.0, 0
    for edges, init in strata:
        k = int(edges.sum())
        n += k
        if k:
            top = np.zeros(len(edges), dtype=bool)
            top[np.argsort(init)[::-1][:k]] = True
            inter += int((top & edges).sum())
            expected += k * k / len(edges)  # expected intersection of two random k-subsets
    return inter / (2 * n - inter), float(expected / (2 * n - expected))


def degree_line(d: dict) -> str:
    """The terminal's line on the graph's degrees (K sets the cost of every node in a deployed model)."""
    return degree_summary(d["degrees"])


def caption(d: dict) -> str:
    """One line for the adjacency plot."""
    k = str(BANDS[-1])
    text = (
        f"{d['edges']} edges, mean degree {d['mean_degree']:.1f}; mass within |i-j|<={k}: "
        f"{d['band_share'][k]:.1%} (uniform {d['uniform_band_share'][k]:.1%}), "
        f"diagonal {d['diagonal_share']:.1%}"
    )
    if "init_overlap" in d:
        text += (
            f"\nedge overlap with the init's largest entries {d['init_overlap']:.2f} "
            f"(chance {d['chance_overlap']:.2f}), per diagonal {d['init_overlap_by_offset']:.2f} "
            f"(chance {d['chance_overlap_by_offset']:.2f})"
        )
    if "prior_alone_mass" in d:
        text += (
            f"\neq. 8 alone (same start, optimiser and steps) would leave "
            f"{d['prior_alone_mass']:.1%} of this mass"
        )
    return text
