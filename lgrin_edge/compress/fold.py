"""Folding: a deployment copy of a trained model whose input-independent quantities are constants.

For L-GrIN the folded value is :class:`~lgrin_edge.deploy.folded.FoldedLGrIN` (relu(A), the neighbour
table, p and the input normalisation as constants), run as the torch module
:class:`~lgrin_edge.deploy.pytorch.DeployLGrIN`. Baselines only need the normalisation folded, which they
already store as scale/shift.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lgrin_edge.deploy.folded import FoldError, fold_lgrin
from lgrin_edge.deploy.pytorch import DeployLGrIN
from lgrin_edge.models import GraphModel
from lgrin_edge.models.lgrin import LGrIN

__all__ = ["DeployBaseline", "DeployLGrIN", "FoldError", "fold_model"]


class DeployBaseline(nn.Module):
    """A baseline in eval mode: its normalisation is already a scale/shift constant."""

    def __init__(self, model: GraphModel) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).cpu().eval()
        self.config = dict(model.config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def fold_model(model: GraphModel) -> nn.Module:
    """The deployment module of a trained model (eval mode, CPU): DeployLGrIN for L-GrIN (FoldError for
    a configuration without a constant graph), DeployBaseline for the others."""
    model = model.cpu().eval()
    if isinstance(model, LGrIN):
        return DeployLGrIN(fold_lgrin(model))
    return DeployBaseline(model)
