"""What the learned graph relu(A) holds: edges, locality, and how much of it the initialisation explains."""

from __future__ import annotations

import numpy as np

BANDS = (1, 2, 5)


def graph_diagnostics(adj: np.ndarray, init: np.ndarray | None = None) -> dict:
    """Diagnostics of a learned relu(A) (M, M), against a uniform matrix and the initial A (if given).

    ``band_share[k]``: share of relu(A)'s mass within |i - j| <= k; ``uniform_band_share[k]`` the same for
    a matrix with equal entries (the share of such positions). ``init_overlap``: Jaccard overlap of the
    final edge set with the same number of largest entries of the initial A; ``chance_overlap`` what two
    random edge sets of that size would share. Near chance, the data shaped the graph; near 1, the
    initialisation did.
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
    }
    if init is not None and n_edges:
        top = np.zeros(m * m, dtype=bool)
        top[np.argsort(np.asarray(init).ravel())[::-1][:n_edges]] = True
        inter = int((top & edges.ravel()).sum())
        out["init_overlap"] = inter / (2 * n_edges - inter)
        density = n_edges / (m * m)
        expected = density * n_edges  # expected intersection of two random sets of n_edges positions
        out["chance_overlap"] = float(expected / (2 * n_edges - expected))
    return out


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
            f"(chance {d['chance_overlap']:.2f})"
        )
    return text
