"""The graph rule as node indices, for streams: which of T frames each of a graph's M nodes takes, and a
ring of the latest frames that builds the graph from what it holds.

lgrin_edge/data/graph.py (``sequence_to_graphs``) stays the one definition: :func:`node_indices` is that
function applied to the frame numbers 0 .. T-1, so nothing here restates it. export/include/lgrin_input.h
(``lgrin_graph_indices``, ``lgrin_graph_gather``) and the Android demo's GraphRule compute the same
indices; the tests hold all three equal on every odd case (T = 1, M - 1, M, M + 1, 2M + 1, large T, M = 1,
and the halves numpy's round sends to the even neighbour).
"""

from __future__ import annotations

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.data.graph import LONG_POLICIES, frame_indices, sequence_to_graphs


def _check(t: int, m: int, policy: str) -> None:
    if t < 1 or m < 1:
        raise UserError(f"a graph needs at least one frame and one node, got T={t}, M={m}")
    if policy not in LONG_POLICIES:
        raise UserError(f"long-sequence policy must be one of {', '.join(LONG_POLICIES)}; got {policy!r}")


def graph_count(t: int, m: int, policy: str = "resample") -> int:
    """How many graphs T frames make: 1, or ceil(T / M) for ``chunk`` with T > M."""
    _check(t, m, policy)
    return -(-t // m) if policy == "chunk" and t > m else 1


def node_indices(t: int, m: int, policy: str = "resample") -> np.ndarray:
    """(G, M) int64: the frame each node of each graph takes, by sequence_to_graphs itself."""
    _check(t, m, policy)
    return frame_indices(t, m, policy)


class FrameRing:
    """The latest ``capacity`` frames of P floats, oldest first, in a fixed array (as a device keeps them);
    :meth:`graph` is sequence_to_graphs of the frames held."""

    def __init__(self, capacity: int, width: int) -> None:
        if capacity < 1 or width < 1:
            raise UserError(f"a frame ring needs capacity and width >= 1, got {capacity} and {width}")
        self.frames = np.zeros((capacity, width), np.float32)
        self.first = 0  # slot of the oldest frame held
        self.count = 0

    def push(self, frames: np.ndarray) -> None:
        """Append (k, P) frames; the oldest fall out once the ring is full."""
        f = np.asarray(frames, np.float32)
        if f.ndim != 2 or f.shape[1] != self.frames.shape[1]:
            raise UserError(f"frames must be (k, {self.frames.shape[1]}), got {f.shape}")
        cap = len(self.frames)
        for row in f:
            slot = (self.first + self.count) % cap
            self.frames[slot] = row
            if self.count < cap:
                self.count += 1
            else:
                self.first = (self.first + 1) % cap

    def held(self) -> np.ndarray:
        """(count, P) the frames held, oldest first."""
        return self.frames[(self.first + np.arange(self.count)) % len(self.frames)]

    def graph(self, m: int, policy: str = "resample", graph: int = 0) -> np.ndarray:
        """(M, P) float32 graph ``graph`` of the frames held."""
        if self.count == 0:
            raise UserError("no frames yet: a graph needs at least one")
        g = sequence_to_graphs(self.held(), m, policy)
        if not 0 <= graph < len(g):
            raise UserError(f"graph {graph} of {len(g)}")
        return g[graph]
