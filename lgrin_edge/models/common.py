"""Pieces shared by every model: input normalisation held as constants, the classifier heads' pooling."""

from __future__ import annotations

import torch
from torch import nn


class FeatureNorm(nn.Module):
    """x * scale + shift per feature: z-scoring with statistics of the training data, kept as buffers.

    Stored in already-folded form so the deployed graph computes no mean or standard deviation.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(num_features))
        self.register_buffer("shift", torch.zeros(num_features))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """Set the statistics from training graphs x (N, M, P)."""
        flat = x.reshape(-1, x.shape[-1]).double()
        mean = flat.mean(0)
        std = flat.std(0, unbiased=False)
        std = torch.where(std > 1e-8, std, torch.ones_like(std))
        self.scale.copy_((1.0 / std).float())
        self.shift.copy_((-mean / std).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


class GraphModel(nn.Module):
    """Base class: every model maps raw graphs (B, M, P) to logits (B, C) and has a config dict."""

    name: str = ""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.config = dict(config)
        self.norm = FeatureNorm(config["in_features"])

    def regularization(self) -> torch.Tensor:
        """Extra loss terms added to the cross-entropy (zero unless the model defines some)."""
        return torch.zeros((), device=self.norm.scale.device)

    def check_input(self, x: torch.Tensor) -> None:
        m, p = self.config["num_nodes"], self.config["in_features"]
        if x.dim() != 3 or x.shape[1:] != (m, p):
            raise ValueError(
                f"{self.name} expects input of shape (batch, {m} nodes, {p} features), got {tuple(x.shape)}"
            )


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (buffers such as normalisation statistics are not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
