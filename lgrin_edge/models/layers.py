"""Graph layers of L-GrIN: G*conv (eq. 4), the linear projection it replaces (eq. 3), 1-hop maxpool."""

from __future__ import annotations

import torch
from torch import nn

from lgrin_edge.models.maxpool import maxpool_neighbours


def neighbour_mask(adj: torch.Tensor) -> torch.Tensor:
    """Boolean 1-hop neighbourhood of each node in a (..., M, M) adjacency: relu(A)_ij > 0.

    A node with no neighbour gets itself as its only neighbour, so its maxpool output is its own
    features (an isolated frame keeps its information instead of becoming -inf or zero).
    """
    mask = adj > 0
    isolated = ~mask.any(dim=-1, keepdim=True)
    eye = torch.eye(adj.shape[-1], dtype=torch.bool, device=adj.device)
    return mask | (isolated & eye)


def neighbour_index(mask: torch.Tensor) -> torch.Tensor:
    """(M, K) indices of each node's neighbours in an (M, M) mask, K = largest degree.

    Short rows are padded with their first neighbour, which leaves the max unchanged.
    """
    k = int(mask.sum(1).max())
    valid, idx = torch.topk(mask.to(torch.int8), k, dim=1, sorted=True)  # True entries first
    return torch.where(valid.bool(), idx, idx[:, :1])


def maxpool_1hop(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per node i, elementwise max of h_j over the nodes j with mask[i, j] (eq. 5, third branch).

    h: (B, M, F); mask: (M, M) shared by the batch or (B, M, M) per sample.
    """
    if mask.dim() == 2:
        # The neighbour table, never the (B, M, K, F) gather (lgrin_edge/models/maxpool.py).
        return maxpool_neighbours(h, neighbour_index(mask))
    # (B, M_i, M_j, F); -inf (not an additive bias) keeps masked entries out of the max exactly.
    cand = h.unsqueeze(1).expand(-1, mask.shape[-2], -1, -1)
    cand = cand.masked_fill(~mask.unsqueeze(-1), float("-inf"))
    return cand.amax(dim=2)


def propagate(adj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """adj @ h for an (M, M) adjacency shared by the batch or a (B, M, M) per-sample one."""
    if adj.dim() == 2:
        # One (M, M) x (M, B*F) product (and one for each gradient) instead of B broadcast products:
        # twice as fast at the bundled datasets' sizes.
        return torch.einsum("ij,bjf->bif", adj, h)
    return torch.matmul(adj, h)


class GStarConv(nn.Module):
    """G*conv (eq. 4): sigma(MLP(relu(A) H)), MLP with two layers of width eta, sigma = ReLU."""

    def __init__(self, in_features: int, eta: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, eta)
        self.fc2 = nn.Linear(eta, eta)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for fc in (self.fc1, self.fc2):
            nn.init.xavier_uniform_(fc.weight)
            nn.init.zeros_(fc.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.fc1.in_features}, eta={self.fc2.out_features}"

    def forward(self, adj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc2(torch.relu(self.fc1(propagate(adj, h)))))


class LinearGraphConv(nn.Module):
    """The linear projection of eq. 3, sigma(A H W): the ablation that G*conv replaces."""

    def __init__(self, in_features: int, eta: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, eta)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.fc.in_features}, eta={self.fc.out_features}"

    def forward(self, adj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(propagate(adj, h)))


class GraphInception(nn.Module):
    """Graph inception layer (eq. 5): [G1*(H) | G2*(H) | maxpool_1hop(H)].

    With ``inception=False`` the layer is a single graph convolution of width eta[0] (Table VI's
    "no inception" rows).
    """

    def __init__(self, in_features: int, eta: tuple[int, int], conv: str, inception: bool) -> None:
        super().__init__()
        conv_cls = {"gstar": GStarConv, "linear": LinearGraphConv}[conv]
        self.inception = inception
        widths = eta if inception else eta[:1]
        self.branches = nn.ModuleList(conv_cls(in_features, w) for w in widths)
        self.in_features = in_features
        self.out_features = sum(widths) + (in_features if inception else 0)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, inception={self.inception}"

    def forward(self, adj: torch.Tensor, mask: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        outs = [branch(adj, h) for branch in self.branches]
        if self.inception:
            outs.append(maxpool_1hop(h, mask))
        return torch.cat(outs, dim=-1)
