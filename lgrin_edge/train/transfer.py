"""Cross-corpus transfer (the paper's Table VIII): start a model from another corpus's trained run.

``finetune="classifier"`` keeps everything the source run learned (the adjacency A, the pooling weights p,
the inception layers) and trains only a new classifier for the target's classes, as the paper does.
``finetune="all"`` starts every layer but the classifier from the source and trains them all.

The input normalisation is re-fitted on the target's training graphs by default (``norm="target"``): it
is a z-scoring, not a learned weight, and another corpus's features (another sensor, speaker set or
landmark detector) have other means and spreads, which would put the frozen layers' inputs off the
scale they were trained on. ``norm="source"`` keeps the source's statistics (docs/analyses.md measures
both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lgrin_edge.checkpoint import WEIGHTS, load_checkpoint, read_config, run_folder
from lgrin_edge.cli import UserError
from lgrin_edge.models import GraphModel

FINETUNES = ("classifier", "all")
TRANSFER_NORMS = ("target", "source")


@dataclass(frozen=True)
class Source:
    """A trained run to start from: its weights (less the classifier) and how to use them."""

    run: Path
    model: str
    config: dict
    state: dict[str, torch.Tensor]
    weights_sha256: str
    finetune: str = "classifier"
    norm: str = "target"

    @property
    def num_nodes(self) -> int:
        return int(self.config["num_nodes"])

    @property
    def in_features(self) -> int:
        return int(self.config["in_features"])

    def model_config(self) -> dict:
        """The target model's options: the source's, less the shape the target sets (classes)."""
        return {k: v for k, v in self.config.items() if k != "num_classes"}

    def check_data(self, features: int, nodes: int | None, what: str) -> None:
        """Refuse target data the source's layers cannot read: another feature count P or node count M."""
        if features != self.in_features:
            raise UserError(
                f"{what} has {features} features per frame; the run {self.run} was trained on "
                f"{self.in_features} (transfer needs the same features)"
            )
        if nodes is not None and nodes != self.num_nodes:
            raise UserError(
                f"--nodes {nodes} differs from the {self.num_nodes} nodes of {self.run}'s graphs (A is "
                f"M x M); leave --nodes out or pass {self.num_nodes}"
            )

    def describe(self) -> dict:
        """What a run's metrics record about where it started."""
        return {
            "run": str(self.run),
            "weights_sha256": self.weights_sha256,
            "finetune": self.finetune,
            "norm": self.norm,
        }

    def apply(self, model: GraphModel, train_x: np.ndarray) -> None:
        """Load the source's weights into ``model`` (its classifier stays freshly initialised), fit or keep
        the normalisation, and freeze what ``finetune`` keeps."""
        own = model.state_dict()
        kept = {k: v for k, v in self.state.items() if not k.startswith("classifier.")}
        if self.norm == "target":
            kept = {k: v for k, v in kept.items() if not k.startswith("norm.")}
        model.load_state_dict({**own, **kept})
        if self.norm == "target":
            model.norm.fit(torch.as_tensor(train_x))
        if self.finetune == "classifier":
            for name, param in model.named_parameters():
                param.requires_grad_(name.startswith("classifier."))


def load_source(run: str | Path, finetune: str = "classifier", norm: str = "target") -> Source:
    """The run to transfer from; a run that is not an L-GrIN checkpoint is refused in one line."""
    if finetune not in FINETUNES:
        raise UserError(f"finetune must be one of {', '.join(FINETUNES)}, got {finetune!r}")
    if norm not in TRANSFER_NORMS:
        raise UserError(
            f"the transfer normalisation must be one of {', '.join(TRANSFER_NORMS)}, got {norm!r}"
        )
    folder = run_folder(run)
    cfg = read_config(folder)
    if cfg["model"] != "lgrin":
        raise UserError(
            f"{folder} is a {cfg['model']} run; transfer keeps L-GrIN's A, p and inception layers, so it "
            "starts from an L-GrIN run"
        )
    model, cfg = load_checkpoint(folder)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    sha = cfg.get("files", {}).get(WEIGHTS, "")
    return Source(folder, cfg["model"], dict(cfg["config"]), state, sha, finetune, norm)
