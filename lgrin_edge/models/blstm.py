"""BLSTM baseline (paper Sec. IV-A): one bidirectional LSTM layer of width 300, then a linear layer."""

from __future__ import annotations

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel

DEFAULTS: dict = {"hidden": 300}


class BLSTM(GraphModel):
    """Reads the M node features as a sequence; classifies the final forward and backward states."""

    name = "blstm"

    def __init__(self, config: dict) -> None:
        config = {**DEFAULTS, **config}
        super().__init__(config)
        hidden = config["hidden"]
        self.lstm = nn.LSTM(config["in_features"], hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden, config["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        _, (h_n, _) = self.lstm(self.norm(x))
        return self.classifier(torch.cat([h_n[0], h_n[1]], dim=-1))
