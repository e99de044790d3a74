"""L-GrIN (eqs. 4-9): learnable adjacency, graph inception layers, learnable pooling, structure loss."""

from __future__ import annotations

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel
from lgrin_edge.models.layers import GraphInception, neighbour_mask
from lgrin_edge.models.maxpool import node_max
from lgrin_edge.models.readout import learned_readout

ADJACENCIES = ("learned", "binary", "weighted")
POOLINGS = ("learned", "max", "mean", "sort")
CONVS = ("gstar", "linear")

DEFAULTS: dict = {
    "eta": (128, 64),
    "num_layers": 2,
    "conv": "gstar",
    "inception": True,
    "adjacency": "learned",
    "pooling": "learned",
    "sort_k": 10,
    "lambda1": 0.1,
    "lambda2": 0.1,
    "lambda3": 1e-4,
}


def chain_adjacency(m: int) -> torch.Tensor:
    """Binary chain graph (A_b)_ij = 1 if |i - j| = 1 (the paper's fixed 'binary' adjacency)."""
    idx = torch.arange(m)
    return ((idx[:, None] - idx[None, :]).abs() == 1).float()


def structure_matrix(m: int) -> torch.Tensor:
    """(A_d)_ij = (i - j)^2 (eq. 9)."""
    idx = torch.arange(m, dtype=torch.float32)
    return (idx[:, None] - idx[None, :]) ** 2


def weighted_adjacency(h: torch.Tensor) -> torch.Tensor:
    """(A_w)_ij = ||n_i - n_j||^2 per sample (the paper's manually weighted graph), (B, M, M)."""
    sq = (h * h).sum(-1)
    return (sq[:, :, None] + sq[:, None, :] - 2 * h @ h.transpose(1, 2)).clamp_min(0)


class LGrIN(GraphModel):
    """Learnable Graph Inception Network.

    Config keys: num_nodes (M), in_features (P), num_classes (C) and the ablation options in DEFAULTS.
    """

    name = "lgrin"

    def __init__(self, config: dict) -> None:
        config = {**DEFAULTS, **config}
        config["eta"] = tuple(int(e) for e in config["eta"])
        _check_choice("adjacency", config["adjacency"], ADJACENCIES)
        _check_choice("pooling", config["pooling"], POOLINGS)
        _check_choice("conv", config["conv"], CONVS)
        if len(config["eta"]) != 2 or min(config["eta"]) < 1:
            raise ValueError(f"eta must be two positive widths, got {config['eta']}")
        if config["num_layers"] < 1:
            raise ValueError(f"num_layers must be >= 1, got {config['num_layers']}")
        super().__init__(config)
        m, p, c = config["num_nodes"], config["in_features"], config["num_classes"]

        if config["adjacency"] == "learned":
            self.adj = nn.Parameter(torch.randn(m, m))
        elif config["adjacency"] == "binary":
            self.register_buffer("adj", chain_adjacency(m))
        self.register_buffer("adj_d", structure_matrix(m), persistent=False)

        layers, width = [], p
        for _ in range(config["num_layers"]):
            layer = GraphInception(width, config["eta"], config["conv"], config["inception"])
            layers.append(layer)
            width = layer.out_features
        self.layers = nn.ModuleList(layers)
        self.out_features = width

        pooled = {"learned": 3 * width, "max": width, "mean": width, "sort": config["sort_k"] * width}
        if config["pooling"] == "learned":
            # p starts as uniform node weights so Psi(H) begins as a scaled mean.
            self.pool_p = nn.Parameter(torch.full((m,), 1.0 / m))
        self.classifier = nn.Linear(pooled[config["pooling"]], c)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def adjacency(self, h: torch.Tensor) -> torch.Tensor:
        """Non-negative adjacency used by the convolutions: relu(A), (M, M) or (B, M, M) if weighted."""
        if self.config["adjacency"] == "weighted":
            return weighted_adjacency(h)
        return torch.relu(self.adj)

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
        kind = self.config["pooling"]
        if kind == "max":
            return node_max(h)
        if kind == "mean":
            return h.mean(1)
        if kind == "sort":
            k = self.config["sort_k"]
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
        cfg = self.config
        loss = torch.zeros((), device=self.norm.scale.device)
        if cfg["adjacency"] == "learned":
            loss = (
                loss + cfg["lambda1"] * (self.adj_d * self.adj).sum() + cfg["lambda2"] * self.adj.pow(2).sum()
            )
        if cfg["pooling"] == "learned":
            loss = loss + cfg["lambda3"] * self.pool_p.pow(2).sum()
        return loss


def training_bytes(config: dict, batch: int) -> int:
    """Estimated peak memory of one training step: the (M, M) adjacency with its gradient, Adam moments,
    relu copy, mask and the structure matrix; the activations kept for backward, three times over."""
    cfg = {**DEFAULTS, **config}
    m, width = cfg["num_nodes"], cfg["in_features"]
    graph = 6 * 4 * m * m
    activations = 0
    for _ in range(cfg["num_layers"]):
        # relu(A) H, the two branches' hidden and output rows, the max pool's output and argmax
        activations += 4 * batch * m * (width + 2 * sum(cfg["eta"]) + 3 * width)
        width = sum(cfg["eta"]) + width
    return graph + 3 * activations


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)}; got {value!r}")
