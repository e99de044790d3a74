"""GCN baseline (eq. 2): sigma(D^-1/2 (A_b + I) D^-1/2 H W) on the binary chain graph, max+mean pooling."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel
from lgrin_edge.models.lgrin import chain_adjacency
from lgrin_edge.models.options import ModelOptions, OptionError
from lgrin_edge.models.registry import register_model
from lgrin_edge.options_cli import cli


@dataclass(frozen=True, kw_only=True)
class GCNOptions(ModelOptions):
    # Three layers of width 192 give ~102K parameters at P=136, C=6: the paper's Table I figure for GCN.
    hidden: int = field(default=192, metadata=cli("width", low=1))
    num_layers: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("hidden", "num_layers"):
            if getattr(self, key) < 1:
                raise OptionError(f"{key} must be >= 1, got {getattr(self, key)}")


def normalized_adjacency(adj: torch.Tensor) -> torch.Tensor:
    """A_hat = D^-1/2 (A + I) D^-1/2 with D the degree matrix of A + I."""
    a = adj + torch.eye(adj.shape[0])
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


@register_model("gcn")
class GCN(GraphModel):
    """Spectral GCN with a fixed binary chain adjacency."""

    Options = GCNOptions
    options: GCNOptions

    def __init__(self, options: GCNOptions) -> None:
        super().__init__(options)
        self.register_buffer("adj_hat", normalized_adjacency(chain_adjacency(options.num_nodes)))
        widths = [options.in_features] + [options.hidden] * options.num_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        for fc in self.layers:
            nn.init.xavier_uniform_(fc.weight)
            nn.init.zeros_(fc.bias)
        self.classifier = nn.Linear(2 * options.hidden, options.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        h = self.norm(x)
        for fc in self.layers:
            h = torch.relu(fc(torch.matmul(self.adj_hat, h)))
        return self.classifier(torch.cat([h.amax(1), h.mean(1)], dim=-1))
