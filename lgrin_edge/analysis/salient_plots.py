"""Figures of salient nodes: positions per class (histograms) and each class's salient frames."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lgrin_edge.train.plots import save_figure

LANDMARK_FEATURES = 136  # 68 (x, y) facial landmarks, laid out [x_0 .. x_67, y_0 .. y_67]


def _grid(n: int, width: int = 4) -> tuple[int, int]:
    cols = min(n, width)
    return (n + cols - 1) // cols, cols


def plot_histograms(hist: dict[str, list[int]], path: str | Path, title: str) -> None:
    """One panel per class: how often each node position is the salient one."""
    rows, cols = _grid(len(hist))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), squeeze=False, sharex=True)
    for ax, (name, counts) in zip(axes.flat, hist.items(), strict=False):
        ax.bar(np.arange(len(counts)), counts, width=1.0, color="tab:red")
        ax.set_title(f"{name} ({sum(counts)})", fontsize=9)
    for ax in axes.flat[len(hist) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("salient node (position)")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)  # lays the figure out, then writes it atomically


def plot_examples(examples: list[dict], path: str | Path, title: str) -> None:
    """Each example's salient frame: its 68 landmarks for P = 136 features, else the whole sequence
    (features z-scored over the nodes) with the salient node marked. An example holds ``x`` (M, P),
    ``node``, ``share`` and ``caption``."""
    rows, cols = _grid(len(examples))
    landmarks = examples[0]["x"].shape[1] == LANDMARK_FEATURES
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    for ax, ex in zip(axes.flat, examples, strict=False):
        x, node = ex["x"], ex["node"]
        if landmarks:
            pts = x[node].reshape(2, -1)
            ax.scatter(pts[0], pts[1], s=6, color="tab:red")
            ax.invert_yaxis()  # image coordinates: y grows downwards
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            z = (x - x.mean(0)) / (x.std(0) + 1e-6)
            ax.imshow(z.T, aspect="auto", cmap="coolwarm", vmin=-3, vmax=3, interpolation="nearest")
            ax.axvline(node, color="black", lw=1.5)
            ax.set_xlabel("node")
            ax.set_ylabel("feature")
        ax.set_title(f"{ex['caption']}\nnode {node}, {ex['share']:.0%} of features", fontsize=8)
    for ax in axes.flat[len(examples) :]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)  # lays the figure out, then writes it atomically
