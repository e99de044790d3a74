"""Pieces shared by every model: input normalisation held as constants, the classifier heads' pooling."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from lgrin_edge.models.options import ModelOptions


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

    def extra_repr(self) -> str:
        return f"num_features={self.scale.numel()}"


class GraphModel(nn.Module):
    """Base class: every model maps raw graphs (B, M, P) to logits (B, C) and is built from its Options.

    Build models with ``create_model`` (lgrin_edge/models/registry.py), which sets ``name``.
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type[ModelOptions]] = ModelOptions

    def __init__(self, options: ModelOptions) -> None:
        if not isinstance(options, self.Options):
            want, got = self.Options.__name__, type(options).__name__
            raise TypeError(f"{type(self).__name__} takes {want}, got {got}")
        super().__init__()
        self.options = options
        self.norm = FeatureNorm(options.in_features)

    @property
    def config(self) -> dict[str, Any]:
        """The options as config.json records them (``create_model(name, **config)`` rebuilds the model)."""
        return self.options.to_config()

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())

    def regularization(self) -> torch.Tensor:
        """Extra loss terms added to the cross-entropy (zero unless the model defines some)."""
        return torch.zeros((), device=self.norm.scale.device)

    def check_input(self, x: torch.Tensor) -> None:
        m, p = self.options.num_nodes, self.options.in_features
        if x.dim() != 3 or x.shape[1:] != (m, p):
            raise ValueError(
                f"{self.name} expects input of shape (batch, {m} nodes, {p} features), got {tuple(x.shape)}"
            )


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (buffers such as normalisation statistics are not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
