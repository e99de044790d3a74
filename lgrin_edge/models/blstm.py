"""BLSTM baseline (paper Sec. IV-A): one bidirectional LSTM layer of width 300, then a linear layer."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel
from lgrin_edge.models.options import ModelOptions, OptionError
from lgrin_edge.models.registry import register_model
from lgrin_edge.options_cli import cli


@dataclass(frozen=True, kw_only=True)
class BLSTMOptions(ModelOptions):
    hidden: int = field(default=300, metadata=cli("width", low=1))  # LSTM width per direction

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.hidden < 1:
            raise OptionError(f"hidden must be >= 1, got {self.hidden}")


@register_model("blstm")
class BLSTM(GraphModel):
    """Reads the M node features as a sequence; classifies the final forward and backward states."""

    Options = BLSTMOptions
    options: BLSTMOptions

    def __init__(self, options: BLSTMOptions) -> None:
        super().__init__(options)
        hidden = options.hidden
        self.lstm = nn.LSTM(options.in_features, hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden, options.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        _, (h_n, _) = self.lstm(self.norm(x))
        return self.classifier(torch.cat([h_n[0], h_n[1]], dim=-1))
