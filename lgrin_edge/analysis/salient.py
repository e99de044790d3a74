"""Salient nodes (the paper's Fig. 7): the node of each graph that answers most strongly at the max pool.

L-GrIN's graph embedding starts with an element-wise max over the nodes of H^(K) (eq. 6; also the
``max`` pooling of Table IV). Each of the F_K features is won by the node its maximum comes from; the
salient node is the node that wins most of them, and its share of the features that differ between
nodes says how much it dominates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lgrin_edge.cli import UserError
from lgrin_edge.data.graph import frame_indices

MAX_POOLINGS = ("learned", "max")  # the poolings that hold a max over nodes


@dataclass(frozen=True)
class Salient:
    """Per graph: the salient node, the share of features it wins, the wins of every node (G, M) and the
    predicted class."""

    node: np.ndarray
    share: np.ndarray
    wins: np.ndarray
    predicted: np.ndarray


def check_explainable(cfg: dict) -> None:
    """Refuse, in one line, a checkpoint without node embeddings and a max pool."""
    if cfg.get("model") != "lgrin":
        raise UserError(f"salient nodes need an L-GrIN checkpoint; this one is a {cfg.get('model')!r} model")
    pooling = cfg.get("config", {}).get("pooling", "learned")
    if pooling not in MAX_POOLINGS:
        raise UserError(
            f"salient nodes are read at the max pool; this model pools with {pooling!r} "
            f"(train with --pooling {' or '.join(MAX_POOLINGS)})"
        )


@torch.no_grad()
def salient_nodes(model: torch.nn.Module, x: np.ndarray, batch: int = 256) -> Salient:
    """Salient node of each graph in x (G, M, P), ties to the earlier node."""
    nodes, shares, wins, predicted = [], [], [], []
    for start in range(0, len(x), batch):
        xb = torch.from_numpy(np.ascontiguousarray(x[start : start + batch], dtype=np.float32))
        embeddings = model.node_embeddings(xb)  # (B, M, F)
        predicted.append(model.classifier(model.pool(embeddings)).argmax(1).numpy())  # forward, from H
        h = embeddings.double()
        top = h.max(1, keepdim=True).values
        # A feature equal on every node (a ReLU that is 0 everywhere) says nothing about position; a max
        # that several nodes reach (a node and the neighbours its 1-hop max pool copied) is shared.
        informative = (top[:, 0] > h.min(1).values).double()  # (B, F)
        at_max = (h == top).double()
        credit = at_max / at_max.sum(1, keepdim=True) * informative[:, None, :]
        count = credit.sum(2)  # (B, M): features won, fractions for shared maxima
        nodes.append(count.argmax(1).numpy())
        shares.append((count.max(1).values / informative.sum(1).clamp_min(1.0)).numpy())
        wins.append(count.numpy())
    if not nodes:
        raise UserError("no graphs to explain (the data holds no sequences)")
    return Salient(*(np.concatenate(a) for a in (nodes, shares, wins, predicted)))


def node_frames(lengths: np.ndarray, m: int, policy: str) -> np.ndarray:
    """The frame of its sequence that each node of each graph holds (G, M), for sequences of ``lengths``
    made into graphs as training does (cyclic padding, and ``policy`` beyond M frames)."""
    return np.concatenate([frame_indices(int(n), m, policy) for n in lengths])


def position_histogram(node: np.ndarray, labels: np.ndarray, classes: list[str], m: int) -> dict[str, list]:
    """Per class, how many graphs have their salient node at each of the m positions."""
    return {c: np.bincount(node[labels == k], minlength=m).tolist() for k, c in enumerate(classes)}
