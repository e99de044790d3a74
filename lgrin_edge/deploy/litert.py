"""The folded L-GrIN written in the operators LiteRT runs fastest: same weights, same function in fp32 as
the reference (reference.py).

Converted as written, a dynamic-range (or fp32) file spends half its time at M = 100 in the 1-hop max
pool: XNNPACK has no gather, so TFLite's own GATHER_ND copies the (M, K, F) neighbour rows in float
(K = the largest degree, every row padded to it) between two delegated subgraphs. Rewritten:

- the nodes are relabelled once (a gather of the (M, P) input): nodes whose only neighbour is
  themselves first, then the rest grouped by degree. The network is equivariant to a relabelling (A's
  rows and columns, p and the neighbour tables are permuted with it; max, mean and the p-weighted sum
  over nodes do not depend on the order), so the logits are unchanged;
- self-only nodes need no gather (a slice), and each degree group gathers only as many rows as its own
  largest degree needs: about E rows (the number of edges) instead of M * K;
- relu(A) @ H is ``linear(H^T, relu(A))^T``, a FULLY_CONNECTED whose input rows are H's feature columns,
  so dynamic range quantises each feature column with its own scale (BATCH_MATMUL has no dynamic-range
  kernel in XNNPACK and ran in float);
- the p-weighted readout is one BATCH_MATMUL of a (1, 1, M) p (instead of MUL + SUM over a transpose).

Measured on the BasicMotions seed-0 model (docs/quantisation.md): the int8 file at batch 1 about 25%
faster than the graph converted as written.

The full-integer file (``--static-int8``, PT2E) converts this form with ``full_integer``: relu(A) @ H is
then DeployLGrIN's product (per-tensor int8 has no per-row scales for the FULLY_CONNECTED to win), the
readout is already DeployLGrIN's integer one, and the max pool's parts (the self-only slice, each group's
gather and max, their concatenation over the nodes) only select H's int8 values at the scale of the
feature concatenation they feed, as the table's gather does. TFLite Micro's arena then holds the largest
degree group's gathered rows instead of an (M, K, F) table (BasicMotions, K = 100: 4.0 MB -> 0.53 MB;
docs/microcontrollers.md). The one difference in the numbers: that shared scale's histogram observer
also sees the concatenation of the parts, so it counts the max-pool values twice and may settle on a
slightly different range (measured: training-graph logit error 0.033 -> 0.034 on JapaneseVowels).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lgrin_edge.deploy.folded import FoldedLGrIN, degree_groups, neighbour_lists, pad_rows
from lgrin_edge.deploy.pytorch import torch_layers, torch_linear


class LiteRTLGrIN(nn.Module):
    """The folded L-GrIN in LiteRT's fastest operators (module docstring); same weights, same logits in
    fp32. ``full_integer``: the form the full-integer file converts (module docstring)."""

    # the path .tflite files name this class by (pytorch.py, TFLITE_CLASS_PATH): where it was first written
    __module__ = "lgrin_edge.export.tflite_form"
    # The learned pooling is always written the way DeployLGrIN's ``integer_readout`` writes it (a (1, 1, M)
    # p in one BATCH_MATMUL): LiteRT's fastest form is also the one that quantises to integers.
    integer_readout = True

    def __init__(self, model: FoldedLGrIN, *, full_integer: bool = False) -> None:
        super().__init__()
        self.full_integer = full_integer
        self.pooling, self.inception = model.pooling, model.inception
        lists = [row.tolist() for row in neighbour_lists(model.adj)]
        self_only = [i for i, nb in enumerate(lists) if nb == [i]]
        rest = sorted((i for i in range(model.M) if lists[i] != [i]), key=lambda i: (len(lists[i]), i))
        order = self_only + rest
        position = np.empty(model.M, np.int64)
        position[order] = np.arange(model.M)
        self.self_only = len(self_only)
        self.register_buffer("order", torch.tensor(order))
        self.groups: list[tuple[int, int]] = degree_groups([len(lists[i]) for i in rest])
        start = 0
        for g, (size, degree) in enumerate(self.groups):
            # relabelled neighbours, each row padded to the group's degree
            rows = pad_rows([position[lists[i]] for i in rest[start : start + size]], degree)
            self.register_buffer(f"gather{g}", torch.from_numpy(rows.ravel()).long())
            start += size
        self.register_buffer("adj", torch.from_numpy(model.adj[np.ix_(order, order)]))
        self.register_buffer("in_scale", torch.from_numpy(model.in_scale.copy()))
        self.register_buffer("in_shift", torch.from_numpy(model.in_shift.copy()))
        if self.pooling == "learned":
            self.register_buffer("pool_p", torch.from_numpy(model.pool_p[order].reshape(1, 1, -1)))
        self.layers = torch_layers(model)
        self.classifier = torch_linear(model.classifier)
        self.eval()

    def _max_pool(self, h: torch.Tensor) -> torch.Tensor:
        """1-hop max pool of relabelled H: self-only nodes as they are, each degree group gathered."""
        b, f = h.shape[0], h.shape[2]
        parts = [h[:, : self.self_only]] if self.self_only else []
        for g, (size, degree) in enumerate(self.groups):
            rows = torch.index_select(h, 1, getattr(self, f"gather{g}"))
            parts.append(rows.reshape(b, size, degree, f).amax(dim=2))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.index_select(x, 1, self.order) * self.in_scale + self.in_shift
        for branches in self.layers:
            if self.full_integer:  # per-tensor int8: the FULLY_CONNECTED's per-row scales do not exist
                ah = torch.matmul(self.adj, h)
            else:
                ah = F.linear(h.transpose(1, 2), self.adj).transpose(1, 2)  # relu(A) @ H
            outs = [br(ah) for br in branches]
            if self.inception:
                outs.append(self._max_pool(h))
            h = torch.cat(outs, dim=-1)
        if self.pooling == "max":
            g = h.amax(1)
        elif self.pooling == "mean":
            g = h.mean(1)
        else:
            g = torch.cat([h.amax(1), torch.matmul(self.pool_p, h).squeeze(1), h.mean(1)], dim=-1)
        return self.classifier(g)
