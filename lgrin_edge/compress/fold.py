"""Folding: a deployment copy of a trained model whose input-independent quantities are constants.

For L-GrIN: relu(A) is computed once and stored, the 1-hop neighbourhood becomes an index table
(Gather + ReduceMax in the exported graph, never an additive large-negative mask, which breaks int8),
p and the input normalisation are plain constants. Baselines only need the normalisation folded,
which they already store as scale/shift.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from lgrin_edge.models import GraphModel
from lgrin_edge.models.layers import neighbour_mask
from lgrin_edge.models.lgrin import LGrIN


class FoldError(ValueError):
    """The model's configuration cannot be folded into a constant-graph deployment model."""


def neighbour_table(adj: torch.Tensor) -> torch.Tensor:
    """(M, K) indices of each node's 1-hop neighbours, rows padded by repeating their first entry."""
    mask = neighbour_mask(adj)
    k = int(mask.sum(1).max())
    rows = []
    for row in mask:
        idx = torch.nonzero(row).flatten()
        rows.append(torch.cat([idx, idx[:1].expand(k - len(idx))]))
    return torch.stack(rows)


class DeployBranch(nn.Module):
    """One folded graph convolution branch (G*conv's MLP or the linear projection)."""

    def __init__(self, linears: list[nn.Linear]) -> None:
        super().__init__()
        self.linears = nn.ModuleList(copy.deepcopy(fc) for fc in linears)

    def forward(self, ah: torch.Tensor) -> torch.Tensor:
        # On (B*M, F) rows each linear layer exports as one Gemm with its bias inside: int8 runtimes then
        # requantise once per layer instead of once after the product and again after the bias (MatMul +
        # Add), whose pre-bias range is far wider than the layer's output.
        y = ah.reshape(-1, ah.shape[-1])
        for fc in self.linears:
            y = torch.relu(fc(y))
        return y.reshape(*ah.shape[:-1], y.shape[-1])


class DeployLGrIN(nn.Module):
    """L-GrIN with relu(A), the neighbour table, p and normalisation as constants.

    ``integer_readout`` (set on a copy by the full-integer TFLite export) writes the learned pooling so
    that it quantises to integers (TFLite Micro, NPUs); the function is the same.
    """

    integer_readout = False

    def __init__(self, model: LGrIN) -> None:
        super().__init__()
        cfg = model.config
        if cfg["adjacency"] == "weighted":
            raise FoldError(
                "adjacency 'weighted' depends on each input, so there is no constant graph to fold"
            )
        if cfg["pooling"] == "sort":
            raise FoldError("sort pooling is data-dependent reordering; deployment supports learned|max|mean")
        self.config = dict(cfg)
        self.pooling = cfg["pooling"]
        self.inception = cfg["inception"]
        with torch.no_grad():
            adj = torch.relu(model.adj.detach().float().cpu()).clone()
        self.register_buffer("adj", adj)
        self.register_buffer("nbr", neighbour_table(adj))
        self.register_buffer("in_scale", model.norm.scale.detach().cpu().clone())
        self.register_buffer("in_shift", model.norm.shift.detach().cpu().clone())
        self.layers = nn.ModuleList()
        for layer in model.layers:
            branches = nn.ModuleList()
            for br in layer.branches:
                linears = [br.fc1, br.fc2] if hasattr(br, "fc1") else [br.fc]
                branches.append(DeployBranch(linears))
            self.layers.append(branches)
        if self.pooling == "learned":
            self.register_buffer("pool_p", model.pool_p.detach().cpu().clone())
        self.classifier = copy.deepcopy(model.classifier).cpu()
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x * self.in_scale + self.in_shift
        for branches in self.layers:
            ah = torch.matmul(self.adj, h)
            outs = [br(ah) for br in branches]
            if self.inception:
                # (B, M, K, F) gathered neighbours, max over K: the int8-safe form of the 1-hop maxpool.
                outs.append(h[:, self.nbr].amax(dim=2))
            h = torch.cat(outs, dim=-1)
        if self.pooling == "max":
            g = h.amax(1)
        elif self.pooling == "mean":
            g = h.mean(1)
        elif self.integer_readout:
            # p as a (1, 1, M) operand broadcast over the batch: converters lower this to one integer
            # BATCH_MATMUL, where matmul(p, H) with a 1-D p becomes MUL + SUM that litert-torch leaves in
            # float (and an expanded (B, 1, M) p a float BROADCAST_TO).
            weighted = torch.matmul(self.pool_p[None, None, :], h).squeeze(1)
            g = torch.cat([h.amax(1), weighted, h.mean(1)], dim=-1)
        else:
            g = torch.cat([h.amax(1), torch.matmul(self.pool_p, h), h.mean(1)], dim=-1)
        return self.classifier(g)


class DeployBaseline(nn.Module):
    """A baseline in eval mode: its normalisation is already a scale/shift constant."""

    def __init__(self, model: GraphModel) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).cpu().eval()
        self.config = dict(model.config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def fold_model(model: GraphModel) -> nn.Module:
    """The deployment module of a trained model (eval mode, CPU)."""
    model = model.cpu().eval()
    if isinstance(model, LGrIN):
        return DeployLGrIN(model)
    return DeployBaseline(model)


def folded_arrays(deploy: DeployLGrIN) -> dict[str, np.ndarray]:
    """The folded L-GrIN as named numpy arrays (the C runtime's model contract, export/README.md)."""
    if not isinstance(deploy, DeployLGrIN):
        raise FoldError("only L-GrIN has a folded array form")
    cfg = deploy.config
    if not (cfg["inception"] and cfg["conv"] == "gstar" and cfg["pooling"] == "learned"):
        raise FoldError(
            "the C runtime implements the paper's configuration only (G*conv, inception, learned pooling); "
            f"this model has conv={cfg['conv']}, inception={cfg['inception']}, pooling={cfg['pooling']}"
        )
    out = {
        "in_scale": deploy.in_scale,
        "in_shift": deploy.in_shift,
        "adj": deploy.adj,
        "nbr": deploy.nbr.to(torch.int32),
    }
    for li, branches in enumerate(deploy.layers):
        for bi, br in enumerate(branches):
            fc1, fc2 = br.linears
            out[f"l{li}.g{bi}.w1"], out[f"l{li}.g{bi}.b1"] = fc1.weight, fc1.bias
            out[f"l{li}.g{bi}.w2"], out[f"l{li}.g{bi}.b2"] = fc2.weight, fc2.bias
    out["pool_p"] = deploy.pool_p
    out["cls_w"], out["cls_b"] = deploy.classifier.weight, deploy.classifier.bias
    return {k: np.ascontiguousarray(v.detach().cpu().numpy()) for k, v in out.items()}
