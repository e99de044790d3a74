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
    """The learning curves (:func:`curves_figure`) as a PNG."""
    fig, bottom = curves_figure(histories, title)
    save_figure(fig, path, bottom=bottom)


def curves_figure(histories: dict[str, list[dict]], title: str) -> tuple[plt.Figure, float]:
    """Training and validation cross-entropy per graph (left), validation accuracy and learning rate
    (right) per epoch, one colour per fit (fold or final model). Line styles are named in each panel's
    legend, the fits' colours in one below both; returns the figure and the share of its height that
    legend needs."""
    from matplotlib.lines import Line2D

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    fits = [(label, rows) for label, rows in histories.items() if rows]
    # Ten folds and the final model are eleven fits: past ten, tab20's colours keep each its own.
    palette = plt.get_cmap("tab10" if len(fits) <= 10 else "tab20").colors
    colours = [palette[i % len(palette)] for i in range(len(fits))]
    for colour, (_label, rows) in zip(colours, fits, strict=True):
        epochs = [r["epoch"] for r in rows]
        left.plot(epochs, [r["train_ce"] for r in rows], color=colour)
        left.plot(epochs, [r["val_loss"] for r in rows], color=colour, ls="--")
        right.plot(epochs, [r["val_acc"] for r in rows], color=colour)
    left.set(xlabel="epoch", ylabel="cross-entropy per graph (log scale)", yscale="log")
    left.set_title("cross-entropy", fontsize=10)
    right.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1.02))
    right.set_title("validation accuracy and learning rate", fontsize=10)
    styles = [Line2D([], [], color="black", label="validation accuracy")]
    if fits:  # the schedule is the same for every fit
        rows = fits[0][1]
        rate = right.twinx()
        rate.plot([r["epoch"] for r in rows], [r["lr"] for r in rows], color="grey", lw=1.2, ls=":")
        rate.set_ylabel("learning rate")
        styles.append(Line2D([], [], color="grey", lw=1.2, ls=":", label="learning rate (right axis)"))
    left.legend(
        handles=[
            Line2D([], [], color="black", label="training (mean over the epoch's steps)"),
            Line2D([], [], color="black", ls="--", label="validation"),
        ],
        fontsize=8,
        loc="upper right",
    )
    right.legend(handles=styles, fontsize=8, loc="lower right")
    bottom = 0.0
    if len(fits) > 1:
        names = [Line2D([], [], color=c, label=label) for c, (label, _) in zip(colours, fits, strict=True)]
        fig.legend(handles=names, loc="lower center", ncol=min(len(fits), 6), fontsize=8, frameon=False)
        # about 0.2 in per row of 8 pt names, and a margin
        bottom = (0.1 + 0.2 * -(-len(fits) // 6)) / fig.get_figheight()
    fig.suptitle(title)
    return fig, bottom


def save_figure(fig: plt.Figure, path: str | Path, bottom: float = 0.0) -> None:
    """Lay out (leaving ``bottom``, a share of the height, free for notes) and write the PNG atomically."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
