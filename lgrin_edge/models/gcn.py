"""GCN baseline (eq. 2): sigma(D^-1/2 (A_b + I) D^-1/2 H W) on the binary chain graph, max+mean pooling."""

from __future__ import annotations

import itertools

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel
from lgrin_edge.models.lgrin import chain_adjacency

# Three layers of width 192 give ~102K parameters at P=136, C=6: the paper's Table I figure for GCN.
DEFAULTS: dict = {"hidden": 192, "num_layers": 3}


def normalized_adjacency(adj: torch.Tensor) -> torch.Tensor:
    """A_hat = D^-1/2 (A + I) D^-1/2 with D the degree matrix of A + I."""
    a = adj + torch.eye(adj.shape[0])
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


class GCN(GraphModel):
    """Spectral GCN with a fixed binary chain adjacency."""

    name = "gcn"

    def __init__(self, config: dict) -> None:
        config = {**DEFAULTS, **config}
        super().__init__(config)
        self.register_buffer("adj_hat", normalized_adjacency(chain_adjacency(config["num_nodes"])))
        widths = [config["in_features"]] + [config["hidden"]] * config["num_layers"]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        for fc in self.layers:
            nn.init.xavier_uniform_(fc.weight)
            nn.init.zeros_(fc.bias)
        self.classifier = nn.Linear(2 * config["hidden"], config["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        h = self.norm(x)
        for fc in self.layers:
            h = torch.relu(fc(torch.matmul(self.adj_hat, h)))
        return self.classifier(torch.cat([h.amax(1), h.mean(1)], dim=-1))
