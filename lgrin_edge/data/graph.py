"""Frame-to-node graph construction (paper Sec. III-A): a sequence of frames becomes M graph nodes.

Sequences shorter than M are cyclically padded (frames repeated from the start, as in the paper).
Sequences longer than M follow a policy:

- ``truncate``: keep the first M frames.
- ``resample``: pick M frames evenly spread over the whole sequence (nearest frame, no interpolation,
  so every node is a real frame).
- ``chunk``: split into consecutive windows of M frames (the last one cyclically padded); each window
  becomes its own graph carrying the sequence's label and group.
"""

from __future__ import annotations

import numpy as np

from lgrin_edge.data.windows import Windows

LONG_POLICIES = ("truncate", "resample", "chunk")
# The default M never exceeds this: the paper fixes M per corpus (90 for video, 120 for speech and mocap)
# and resamples or cuts longer sequences; a 400-step recording would otherwise become a 400-node graph,
# whose (M, M) adjacency and propagation cost grow with M^2.
MAX_DEFAULT_NODES = 120


def default_nodes(longest: int) -> tuple[int, str]:
    """M for data whose longest sequence has ``longest`` frames, and a sentence saying why."""
    if longest <= MAX_DEFAULT_NODES:
        return longest, f"the longest sequence has {longest} frames"
    return MAX_DEFAULT_NODES, (
        f"the longest sequence has {longest} frames; the default M is capped at {MAX_DEFAULT_NODES} (the "
        "paper's largest), longer sequences follow --long-policy; --nodes sets M"
    )


def cyclic_pad(seq: np.ndarray, m: int) -> np.ndarray:
    """Repeat frames from the beginning until the sequence has m frames."""
    if len(seq) == 0:
        raise ValueError("cannot build a graph from an empty sequence (length 0)")
    return seq[np.arange(m) % len(seq)]


def sequence_to_graphs(seq: np.ndarray, m: int, policy: str = "resample") -> np.ndarray:
    """One sequence (T, P) -> graphs (G, M, P); G > 1 only for the ``chunk`` policy."""
    if policy not in LONG_POLICIES:
        raise ValueError(f"long-sequence policy must be one of {', '.join(LONG_POLICIES)}; got {policy!r}")
    t = len(seq)
    if t <= m:
        return cyclic_pad(seq, m)[None]
    if policy == "truncate":
        return seq[:m][None]
    if policy == "resample":
        idx = np.round(np.linspace(0, t - 1, m)).astype(np.int64)
        return seq[idx][None]
    starts = range(0, t, m)
    return np.stack([cyclic_pad(seq[s : s + m], m) for s in starts])


def frame_indices(t: int, m: int, policy: str = "resample") -> np.ndarray:
    """(G, M) int64: the frame of a T-frame sequence that each node of each graph takes."""
    return sequence_to_graphs(np.arange(t, dtype=np.int64)[:, None], m, policy)[:, :, 0]


def graph_loops(t: int, m: int, policy: str = "resample") -> np.ndarray:
    """Per graph that t frames make, how many distinct frames it holds: the length of the loop that a
    cyclically padded graph repeats, M for a graph that repeats nothing (the shift augmentation's)."""
    return np.array([len(np.unique(row)) for row in frame_indices(t, m, policy)], dtype=np.int64)


def build_graphs(
    x: np.ndarray, lengths: np.ndarray, m: int, policy: str = "resample", windows: Windows | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded sequences x (N, T, P) with true lengths (N,) -> graphs (G, M, P), source index (G,) and
    each graph's loop length (G,) (:func:`graph_loops`).

    With ``windows`` each sequence's windows (windows.py) become graphs, each carrying its sequence's
    index; without, each whole sequence."""
    graphs, source, loops = [], [], []
    for i, (seq, n) in enumerate(zip(x, lengths, strict=True)):
        pieces = [seq[: int(n)]] if windows is None else windows.cut(seq[: int(n)])
        g = np.concatenate([sequence_to_graphs(piece, m, policy) for piece in pieces])
        graphs.append(g)
        source.extend([i] * len(g))
        loops.extend(np.concatenate([graph_loops(len(piece), m, policy) for piece in pieces]))
    out = np.concatenate(graphs).astype(np.float32)
    return out, np.asarray(source, dtype=np.int64), np.asarray(loops, dtype=np.int64)
