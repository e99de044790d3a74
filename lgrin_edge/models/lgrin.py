"""L-GrIN (eqs. 4-9): learnable adjacency, graph inception layers, learnable pooling, structure loss."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, get_args

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel
from lgrin_edge.models.layers import GraphInception, neighbour_mask
from lgrin_edge.models.maxpool import node_max
from lgrin_edge.models.options import ModelOptions, OptionError
from lgrin_edge.models.readout import learned_readout
from lgrin_edge.models.registry import register_model
from lgrin_edge.options_cli import cli

Adjacency = Literal["learned", "binary", "weighted"]
Pooling = Literal["learned", "max", "mean", "sort"]
Conv = Literal["gstar", "linear"]
ADJACENCIES: tuple[str, ...] = get_args(Adjacency)
POOLINGS: tuple[str, ...] = get_args(Pooling)
CONVS: tuple[str, ...] = get_args(Conv)


@dataclass(frozen=True, kw_only=True)
class LGrINOptions(ModelOptions):
    """L-GrIN's options: the paper's configuration by default, ablations of Tables IV-VII otherwise."""

    HELP_GROUP: ClassVar[str] = "L-GrIN options (the paper's ablations)"
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("max_degree",)

    eta: tuple[int, int] = field(
        default=(128, 64), metadata=cli("G1*, G2* widths", low=1, metavar=("ETA1", "ETA2"))
    )
    num_layers: int = field(
        default=2, metadata=cli("number of graph inception layers", flag="--layers", low=1)
    )
    conv: Conv = field(default="gstar", metadata=cli("G*conv (eq. 4) or linear projection (eq. 3)"))
    # on the command line --no-inception (a bool option that defaults to True is a switch turning it off)
    inception: bool = field(default=True, metadata=cli("one graph convolution per layer, no inception"))
    adjacency: Adjacency = field(default="learned", metadata=cli())
    pooling: Pooling = field(default="learned", metadata=cli("learned = [max | H^T p | mean]"))
    sort_k: int = field(default=10, metadata=cli("nodes kept by sort pooling", low=1))
    max_degree: int | None = field(
        default=None,
        metadata=cli(
            "keep the N largest entries of each row of relu(A), in training and every export, so the "
            "neighbour table is at most N wide (None: no cap)",
            low=1,
            metavar="N",
        ),
    )
    # eq. 8's weights: set from the training recipe (train/recipes.py), not options of their own
    lambda1: float = 0.1  # eq. 8: structure
    lambda2: float = 0.1  # eq. 8: ||A||_F^2
    lambda3: float = 1e-4  # eq. 8: ||p||^2

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.eta) < 1:
            raise OptionError(f"eta must be two positive widths, got {self.eta}")
        if self.num_layers < 1:
            raise OptionError(f"num_layers must be >= 1, got {self.num_layers}")
        if self.max_degree is not None and self.max_degree < 1:
            raise OptionError(f"max_degree must be >= 1 neighbour per node, got {self.max_degree}")


def chain_adjacency(m: int) -> torch.Tensor:
    """Binary chain graph (A_b)_ij = 1 if |i - j| = 1 (the paper's fixed 'binary' adjacency)."""
    idx = torch.arange(m)
    return ((idx[:, None] - idx[None, :]).abs() == 1).float()


def structure_matrix(m: int) -> torch.Tensor:
    """(A_d)_ij = (i - j)^2 (eq. 9)."""
    idx = torch.arange(m, dtype=torch.float32)
    return (idx[:, None] - idx[None, :]) ** 2


def graph_prior(adj: torch.Tensor, adj_d: torch.Tensor, lambda1: float, lambda2: float) -> torch.Tensor:
    """Eq. 8's terms in A: lambda1 e^T (A_d . A) e + lambda2 ||A||_F^2."""
    return lambda1 * (adj_d * adj).sum() + lambda2 * adj.pow(2).sum()


def keep_largest(adj: torch.Tensor, k: int) -> torch.Tensor:
    """``adj`` (..., M, M) with all but the k largest entries of each row set to 0 (a mask: gradients
    reach the kept entries only). Ties are broken by topk's order, the same for the same tensor."""
    if k >= adj.shape[-1]:
        return adj
    keep = torch.zeros_like(adj, dtype=torch.bool).scatter_(-1, adj.topk(k, dim=-1).indices, True)
    return torch.where(keep, adj, torch.zeros_like(adj))


def weighted_adjacency(h: torch.Tensor) -> torch.Tensor:
    """(A_w)_ij = ||n_i - n_j||^2 per sample (the paper's manually weighted graph), (B, M, M)."""
    sq = (h * h).sum(-1)
    return (sq[:, :, None] + sq[:, None, :] - 2 * h @ h.transpose(1, 2)).clamp_min(0)


@register_model("lgrin")
class LGrIN(GraphModel):
    """Learnable Graph Inception Network over graphs of num_nodes (M) x in_features (P)."""

    Options = LGrINOptions
    options: LGrINOptions

    def __init__(self, options: LGrINOptions) -> None:
        super().__init__(options)
        o = options
        m, p, c = o.num_nodes, o.in_features, o.num_classes

        if o.adjacency == "learned":
            self.adj = nn.Parameter(torch.randn(m, m))
        elif o.adjacency == "binary":
            self.register_buffer("adj", chain_adjacency(m))
        self.register_buffer("adj_d", structure_matrix(m), persistent=False)

        layers, width = [], p
        for _ in range(o.num_layers):
            layer = GraphInception(width, o.eta, o.conv, o.inception)
            layers.append(layer)
            width = layer.out_features
        self.layers = nn.ModuleList(layers)
        self.out_features = width

        pooled = {"learned": 3 * width, "max": width, "mean": width, "sort": o.sort_k * width}
        if o.pooling == "learned":
            # p starts as uniform node weights so Psi(H) begins as a scaled mean.
            self.pool_p = nn.Parameter(torch.full((m,), 1.0 / m))
        self.classifier = nn.Linear(pooled[o.pooling], c)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def adjacency(self, h: torch.Tensor) -> torch.Tensor:
        """Non-negative adjacency used by the convolutions: relu(A), (M, M) or (B, M, M) if weighted;
        each row cut to its max_degree largest entries where that is set."""
        if self.options.adjacency == "weighted":
            return self._capped(weighted_adjacency(h))
        return self.graph()

    def graph(self) -> torch.Tensor:
        """The constant (M, M) graph of a learned or binary adjacency: relu(A), capped (what folds)."""
        return self._capped(torch.relu(self.adj))

    def _capped(self, adj: torch.Tensor) -> torch.Tensor:
        k = self.options.max_degree
        return adj if k is None else keep_largest(adj, k)

    def node_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """H^(K): node-level representation (B, M, F_K) of raw graphs x (B, M, P)."""
        self.check_input(x)
        h = self.norm(x)
        adj = self.adjacency(h)
        mask = neighbour_mask(adj)
        for layer in self.layers:
            h = layer(adj, mask, h)
        return h

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        kind = self.options.pooling
        if kind == "max":
            return node_max(h)
        if kind == "mean":
            return h.mean(1)
        if kind == "sort":
            k = self.options.sort_k
            order = h[:, :, -1].argsort(dim=1, descending=True)[:, :k]
            top = torch.gather(h, 1, order.unsqueeze(-1).expand(-1, -1, h.shape[-1]))
            if top.shape[1] < k:
                top = torch.cat([top, top.new_zeros(h.shape[0], k - top.shape[1], h.shape[-1])], 1)
            return top.flatten(1)
        return learned_readout(h, self.pool_p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.node_embeddings(x)))

    def regularization(self) -> torch.Tensor:
        """L_GL (eq. 8): l1 e^T (A_d . A) e + l2 ||A||_F^2 + l3 ||p||^2, for the learned parts only."""
        o = self.options
        loss = torch.zeros((), device=self.norm.scale.device)
        if o.adjacency == "learned":
            loss = loss + graph_prior(self.adj, self.adj_d, o.lambda1, o.lambda2)
        if o.pooling == "learned":
            loss = loss + o.lambda3 * self.pool_p.pow(2).sum()
        return loss


def training_bytes(config: dict, batch: int) -> int:
    """Estimated peak memory of one training step: the (M, M) adjacency with its gradient, Adam moments,
    relu copy, mask and the structure matrix; the activations kept for backward, three times over."""
    cfg = {**LGrINOptions.defaults(), **config}
    m, width = cfg["num_nodes"], cfg["in_features"]
    graph = 6 * 4 * m * m
    activations = 0
    for _ in range(cfg["num_layers"]):
        # relu(A) H, the two branches' hidden and output rows, the max pool's output and argmax
        activations += 4 * batch * m * (width + 2 * sum(cfg["eta"]) + 3 * width)
        width = sum(cfg["eta"]) + width
    return graph + 3 * activations
