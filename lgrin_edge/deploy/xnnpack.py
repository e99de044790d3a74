"""The folded L-GrIN written in operators XNNPACK implements (the ExecuTorch target's form).

Lowered as written, four operators have no XNNPACK kernel and fall back to ExecuTorch's portable ones:
the 1-hop max pool's gather (``index``) and ``amax``, the 3-D ``mean`` and the 1-D ``pool_p @ H``
(``sum``); the delegate then splits into four subgraphs with conversions at every cut, and ran 2-8x
slower than eager PyTorch. Rewritten from the FoldedLGrIN, with the same weights and the same outputs as
the reference (reference.py) in fp32:

- ``relu(A) @ H`` is ``linear(H^T, relu(A))^T``;
- the 1-hop max pool is a ``linear`` of H^T with a constant 0/1 selection matrix (K*M, M) that gathers the
  K neighbours of every node, then ``max_pool2d`` over K (in int8 the 0/1 weights are exact). Where one
  K-wide table would pad many rows (a hub row of many neighbours among rows of few), the nodes are split
  into runs in their own order, each with its own selection matrix as wide as its largest degree
  (folded.degree_segments), and the runs' max pools concatenated: about E*M constants (E the edges) instead
  of K*M*M. A graph best kept as one run is lowered as the single table, as before;
- the readout's max is ``max_pool2d`` over the nodes, and [p-weighted sum | mean] one ``linear`` with the
  rows [p; 1/M].
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lgrin_edge.deploy.folded import FoldedLGrIN, degree_segments, neighbour_lists, pad_rows
from lgrin_edge.deploy.pytorch import torch_layers, torch_linear


class XnnpackLGrIN(nn.Module):
    """The folded L-GrIN in XNNPACK's operators (module docstring); same weights, same outputs in fp32."""

    def __init__(self, model: FoldedLGrIN) -> None:
        super().__init__()
        m = model.M
        self.pooling, self.inception, self.nodes = model.pooling, model.inception, m
        self.register_buffer("in_scale", torch.from_numpy(model.in_scale.copy()))
        self.register_buffer("in_shift", torch.from_numpy(model.in_shift.copy()))
        self.register_buffer("adj", torch.from_numpy(model.adj.copy()))
        lists = neighbour_lists(model.adj)
        self.runs = degree_segments([len(row) for row in lists])
        start = 0
        for r, (size, width) in enumerate(self.runs):
            self.register_buffer(self._select(r), _selection(pad_rows(lists[start : start + size], width), m))
            start += size
        rows = [torch.from_numpy(model.pool_p).reshape(1, m)] if self.pooling == "learned" else []
        if self.pooling in ("learned", "mean"):
            rows.append(torch.full((1, m), 1.0 / m))
        self.register_buffer("weighted", torch.cat(rows) if rows else torch.zeros(0, m))
        self.layers = torch_layers(model)
        self.classifier = torch_linear(model.classifier)
        self.eval()

    def _select(self, run: int) -> str:
        """The buffer holding a run's selection matrix ("select" alone: the single table, as it was)."""
        return "select" if len(self.runs) == 1 else f"select{run}"

    def _max_pool(self, ht: torch.Tensor) -> torch.Tensor:
        """1-hop max pool of H^T (B, F, M), run by run, as (B, F, M)."""
        b, f = ht.shape[0], ht.shape[1]
        parts = []
        for r, (size, width) in enumerate(self.runs):
            gathered = F.linear(ht, getattr(self, self._select(r))).reshape(b, f, width, size)
            parts.append(F.max_pool2d(gathered, (width, 1)).reshape(b, f, size))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, m = x.shape[0], self.nodes
        h = x * self.in_scale + self.in_shift
        for branches in self.layers:
            ht = h.transpose(1, 2)  # (B, F, M)
            ah = F.linear(ht, self.adj).transpose(1, 2)  # relu(A) @ H
            outs = [br(ah) for br in branches]
            if self.inception:
                outs.append(self._max_pool(ht).transpose(1, 2))
            h = torch.cat(outs, dim=-1)
        ht = h.transpose(1, 2)
        f = ht.shape[1]
        parts = []
        if self.pooling in ("learned", "max"):
            parts.append(F.max_pool2d(ht.reshape(b, f, 1, m), (1, m)).reshape(b, f))
        if len(self.weighted):
            # (B, F, R) -> (B, R*F): [p-weighted sum | mean], the reference's order
            parts.append(F.linear(ht, self.weighted).transpose(1, 2).reshape(b, -1))
        return self.classifier(torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0])


def _selection(table: np.ndarray, m: int) -> torch.Tensor:
    """(K*N, M) 0/1 matrix of an (N, K) neighbour table: row k*N + i picks node table[i, k]."""
    n, k = table.shape
    select = torch.zeros(k * n, m)
    for col in range(k):
        select[torch.arange(n) + col * n, torch.from_numpy(table[:, col]).long()] = 1.0
    return select
