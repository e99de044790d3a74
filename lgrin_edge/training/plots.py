"""PNG plots of a training run: the learned adjacency (as the paper's Fig. 4), the confusion matrix and the
learning curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lgrin_edge.atomic import atomic_path


def plot_adjacency(adj: np.ndarray, path: str | Path, title: str, note: str = "") -> None:
    """Heatmap of relu(A); darker = stronger edge, like the paper's Fig. 4; ``note`` goes below it."""
    lines = note.count("\n") + 1 if note else 0
    height = 5.0 + 0.15 * lines
    fig, ax = plt.subplots(figsize=(5.4, height))
    im = ax.imshow(adj, cmap="Greys", interpolation="nearest")
    ax.set_title(title)
    if note:
        fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=7)
    ax.set_xlabel("node j (frame)")
    ax.set_ylabel("node i (frame)")
    fig.colorbar(im, ax=ax, fraction=0.046, label="relu(A)_ij")
    # The note's lines (7 pt, about 0.13 in each) are kept clear of the axis label.
    save_figure(fig, path, bottom=(0.13 * lines + 0.05) / height if note else 0.0)


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
    save_figure(fig, path)


def plot_curves(histories: dict[str, list[dict]], path: str | Path, title: str) -> None:
    """Training cross-entropy and validation loss (left), validation accuracy and learning rate (right)
    per epoch, one line per fit (fold or final model)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (label, rows) in enumerate(histories.items()):
        if not rows:
            continue
        colour = f"C{i % 10}"
        epochs = [r["epoch"] for r in rows]
        left.plot(epochs, [r["train_ce"] for r in rows], color=colour, label=f"{label} train CE")
        left.plot(epochs, [r["val_loss"] for r in rows], color=colour, ls="--", label=f"{label} val loss")
        right.plot(epochs, [r["val_acc"] for r in rows], color=colour, label=label)
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("validation accuracy")
    right.set_ylim(0, 1.02)
    rows = next((r for r in histories.values() if r), [])
    if rows:  # the schedule is the same for every fit
        rate = right.twinx()
        rate.plot([r["epoch"] for r in rows], [r["lr"] for r in rows], color="grey", lw=0.8, ls=":")
        rate.set_ylabel("learning rate (dotted)")
    # Ten folds give twenty loss lines: the legend names fits only when there are few of them.
    if len(histories) <= 3:
        left.legend(fontsize=7)
    right.legend(fontsize=7, loc="lower right", ncol=2 if len(histories) > 5 else 1)
    fig.suptitle(title)
    save_figure(fig, path)


def save_figure(fig: plt.Figure, path: str | Path, bottom: float = 0.0) -> None:
    """Lay out (leaving ``bottom``, a share of the height, free for notes) and write the PNG atomically."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
