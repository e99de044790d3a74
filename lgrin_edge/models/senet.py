"""SENet baseline: a squeeze-and-excitation residual CNN over the node sequence (1-D convolutions)."""

from __future__ import annotations

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel

# "paper" is of the order of the ~26M parameters the paper lists for SENet; "compact" is for quick runs.
PRESETS: dict[str, dict] = {
    "compact": {"widths": (32, 64, 128), "reduction": 8},
    "paper": {"widths": (256, 512, 1024, 1920), "reduction": 16},
}
DEFAULTS: dict = {"preset": "compact"}


class SEBlock(nn.Module):
    """Residual block of two k=3 convolutions whose output channels are re-weighted by SE gating."""

    def __init__(self, c_in: int, c_out: int, stride: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm1d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv1d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm1d(c_out),
        )
        squeezed = max(c_out // reduction, 4)
        self.excite = nn.Sequential(
            nn.Linear(c_out, squeezed), nn.ReLU(inplace=True), nn.Linear(squeezed, c_out), nn.Sigmoid()
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        y = y * self.excite(y.mean(-1)).unsqueeze(-1)
        return torch.relu(y + self.shortcut(x))


class SENet(GraphModel):
    """SE-ResNet over (features x nodes): stem, one SE block per width (stride 2 after the first)."""

    name = "senet"

    def __init__(self, config: dict) -> None:
        config = {**DEFAULTS, **config}
        if config["preset"] not in PRESETS:
            raise ValueError(f"senet preset must be one of {', '.join(PRESETS)}; got {config['preset']!r}")
        config = {**PRESETS[config["preset"]], **config}
        config["widths"] = tuple(int(w) for w in config["widths"])
        super().__init__(config)
        widths = config["widths"]
        self.stem = nn.Sequential(
            nn.Conv1d(config["in_features"], widths[0], 3, padding=1, bias=False),
            nn.BatchNorm1d(widths[0]),
            nn.ReLU(inplace=True),
        )
        blocks, c_in = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(SEBlock(c_in, w, stride=1 if i == 0 else 2, reduction=config["reduction"]))
            c_in = w
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(c_in, config["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        y = self.blocks(self.stem(self.norm(x).transpose(1, 2)))
        return self.classifier(y.mean(-1))
