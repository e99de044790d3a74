"""SENet baseline: a squeeze-and-excitation residual CNN over the node sequence (1-D convolutions)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from lgrin_edge.models.common import GraphModel
from lgrin_edge.models.options import ModelOptions, OptionError
from lgrin_edge.models.registry import register_model
from lgrin_edge.options_cli import cli

# "paper" is of the order of the ~26M parameters the paper lists for SENet; "compact" is for quick runs.
# Each is also a registered name, for --model: "senet" (compact, the default) and "senet-paper".
PRESETS: dict[str, dict] = {
    "compact": {"widths": (32, 64, 128), "reduction": 8},
    "paper": {"widths": (256, 512, 1024, 1920), "reduction": 16},
}


@dataclass(frozen=True, kw_only=True)
class SENetOptions(ModelOptions):
    """SENet's block widths and SE reduction; those not given come from the preset."""

    widths: tuple[int, ...] | None = None
    reduction: int | None = None
    preset: str = field(default="compact", metadata=cli(flag="--senet-preset", choices=tuple(PRESETS)))

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.preset not in PRESETS:
            raise OptionError(f"senet preset must be one of {', '.join(PRESETS)}; got {self.preset!r}")
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)  # frozen: resolved once, here
        if not self.widths or min(self.widths) < 1 or self.reduction < 1:
            raise OptionError(
                f"senet needs positive widths and a reduction >= 1; got {self.widths}, {self.reduction}"
            )


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
        self.stride, self.squeezed = stride, squeezed
        self.excite = nn.Sequential(
            nn.Linear(c_out, squeezed), nn.ReLU(inplace=True), nn.Linear(squeezed, c_out), nn.Sigmoid()
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)
            )

    def extra_repr(self) -> str:
        c_in, c_out = self.body[0].in_channels, self.body[0].out_channels
        return f"{c_in} -> {c_out}, stride={self.stride}, squeezed={self.squeezed}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        y = y * self.excite(y.mean(-1)).unsqueeze(-1)
        return torch.relu(y + self.shortcut(x))


@register_model("senet-paper", preset="paper")
@register_model("senet")
class SENet(GraphModel):
    """SE-ResNet over (features x nodes): stem, one SE block per width (stride 2 after the first)."""

    Options = SENetOptions
    options: SENetOptions

    def __init__(self, options: SENetOptions) -> None:
        super().__init__(options)
        widths = options.widths
        self.stem = nn.Sequential(
            nn.Conv1d(options.in_features, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm1d(widths[0]),
            nn.ReLU(inplace=True),
        )
        blocks, c_in = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(SEBlock(c_in, w, stride=1 if i == 0 else 2, reduction=options.reduction))
            c_in = w
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(c_in, options.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        y = self.blocks(self.stem(self.norm(x).transpose(1, 2)))
        return self.classifier(y.mean(-1))
