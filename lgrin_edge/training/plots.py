"""PNG plots of a training run: the learned adjacency (as the paper's Fig. 4) and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lgrin_edge.atomic import atomic_path


def plot_adjacency(adj: np.ndarray, path: str | Path, title: str, note: str = "") -> None:
    """Heatmap of relu(A); darker = stronger edge, like the paper's Fig. 4; ``note`` goes below it."""
    fig, ax = plt.subplots(figsize=(5.4, 5.0))
    im = ax.imshow(adj, cmap="Greys", interpolation="nearest")
    ax.set_title(title)
    if note:
        fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=7)
    ax.set_xlabel("node j (frame)")
    ax.set_ylabel("node i (frame)")
    fig.colorbar(im, ax=ax, fraction=0.046, label="relu(A)_ij")
    _save(fig, path)


def plot_confusion(cm: np.ndarray, classes: list[str], path: str | Path, title: str) -> None:
    """Row-normalised confusion matrix with counts in each cell."""
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(4.0, 0.55 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j, i, str(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black"
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _save(fig, path)


def _save(fig: plt.Figure, path: str | Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
