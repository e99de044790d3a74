"""The report's Pareto plot: test accuracy against batch-1 latency per dataset, colour = model, shape =
precision, area ~ parameters. L-GrIN's points are labelled by runtime, each label where it covers no
marker and no other label (several runtimes often share an accuracy and nearly a latency)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from lgrin_edge.atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

MODEL_COLORS = {"lgrin": "tab:red", "blstm": "tab:blue", "senet": "tab:green", "senet-paper": "tab:olive"}
PRECISION_MARKERS = {"fp32": "o", "int8": "s"}
# Where a label may go around its point, tried in order: (dx, dy) unit direction, horizontal and vertical
# alignment. Each ring of tries lies farther out, with a leader line from the second ring on.
_DIRECTIONS = (
    ((1, 0), "left", "center"),
    ((-1, 0), "right", "center"),
    ((0, 1), "center", "bottom"),
    ((0, -1), "center", "top"),
    ((1, 1), "left", "bottom"),
    ((1, -1), "left", "top"),
    ((-1, 1), "right", "bottom"),
    ((-1, -1), "right", "top"),
)
_RINGS = 6
_RING_STEP = 11  # points


def marker_area(params: int, biggest: int) -> float:
    """A marker's area in points^2: grows with sqrt(parameters / the largest model's)."""
    return 25 + 400 * (params / biggest) ** 0.5


def pareto_plot(rows: list[dict], path: Path) -> None:
    """The plot of ``rows`` (:func:`pareto_figure`) as a PNG."""
    import matplotlib.pyplot as plt

    fig = pareto_figure(rows)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def pareto_figure(rows: list[dict]) -> Figure:
    """The plot of ``rows`` (the report's inference rows) at batch 1. Rows of pinned C kernel families
    (``kernel`` in extra_info) stay in the table only: they are builds of one runtime."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    datasets = sorted({r["dataset"] for r in rows})
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 5.2), squeeze=False)
    biggest = max(r["params"] for r in rows)
    shown = []
    for ax, ds in zip(axes[0], datasets, strict=True):
        points = [r for r in rows if r["dataset"] == ds and r["batch"] == 1 and "kernel" not in r]
        for r in points:
            ax.scatter(
                r["median_s"] * 1e3,
                r["accuracy"] * 100,
                s=marker_area(r["params"], biggest),
                alpha=0.75,
                color=MODEL_COLORS.get(r["model"], "gray"),
                marker=PRECISION_MARKERS.get(r["precision"], "o"),
                edgecolor="black",
                linewidth=0.5,
            )
        ax.set_xscale("log")
        ax.margins(x=0.12, y=0.1)  # room for the labels of the outermost points
        ax.set_xlabel("median latency at batch 1, one thread (ms, log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{ds}: accuracy vs latency")
        ax.grid(alpha=0.3, which="both")
        shown.append((ax, points))
    present = {r["model"] for _, points in shown for r in points}  # a legend of what the plot shows
    handles = [
        Line2D([], [], marker="o", linestyle="", color=c, label=m)
        for m, c in MODEL_COLORS.items()
        if m in present
    ]
    handles += [
        Line2D([], [], marker=m, linestyle="", color="gray", label=p) for p, m in PRECISION_MARKERS.items()
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        frameon=False,
        title="colour: model, shape: precision, area: parameters; labels: L-GrIN's runtimes",
    )
    # Labels are placed in the final layout: their positions are measured in display space.
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    renderer = fig.canvas.get_renderer()
    for ax, points in shown:
        _label_points(ax, points, biggest, renderer)
    return fig


def _label_points(ax: Axes, points: list[dict], biggest: int, renderer: RendererBase) -> None:
    """Label L-GrIN's points, fastest first, each at the first place that overlaps nothing placed."""
    from matplotlib.transforms import Bbox

    pt = ax.figure.dpi / 72  # display pixels per point
    taken: list[Bbox] = []
    for r in points:  # every marker is an obstacle
        x, y = ax.transData.transform((r["median_s"] * 1e3, r["accuracy"] * 100))
        half = math.sqrt(marker_area(r["params"], biggest)) / 2 * pt
        taken.append(Bbox.from_extents(x - half, y - half, x + half, y + half))
    frame = ax.get_window_extent(renderer)
    for r in sorted((r for r in points if r["model"] == "lgrin"), key=lambda r: r["median_s"]):
        radius = math.sqrt(marker_area(r["params"], biggest)) / 2 + 2
        xy = (r["median_s"] * 1e3, r["accuracy"] * 100)
        text = f"{r.get('target', r['runtime'])} {r['precision']}"
        taken.append(_place(ax, text, xy, radius, taken, frame, renderer))


def _place(
    ax: Axes, text: str, xy: tuple[float, float], radius: float, taken: list[Bbox], frame: Bbox,
    renderer: RendererBase,
) -> Bbox:  # fmt: skip
    """Annotate ``xy`` with ``text`` at the first candidate place inside the axes that overlaps none of
    ``taken`` (else the one that overlaps least); returns the label's box."""
    best = None
    for ring in range(_RINGS):
        for (ux, uy), ha, va in _DIRECTIONS:
            d = radius + ring * _RING_STEP
            scale = d / math.hypot(ux, uy) if ux and uy else d
            offset = (ux * scale, uy * scale)
            label = ax.annotate(text, xy, xytext=offset, textcoords="offset points", fontsize=7, ha=ha, va=va)
            box = label.get_window_extent(renderer).padded(1.5)
            clash = sum(_overlap(box, t) for t in taken) + (
                0 if _inside(box, frame) else box.width * box.height
            )
            label.remove()
            if best is None or clash < best[0]:
                best = (clash, offset, ha, va, ring, box)
            if clash == 0:
                break
        if best[0] == 0:
            break
    _, offset, ha, va, ring, box = best
    arrow = {"arrowstyle": "-", "color": "gray", "lw": 0.5} if ring > 0 else None
    ax.annotate(
        text, xy, xytext=offset, textcoords="offset points", fontsize=7, ha=ha, va=va, arrowprops=arrow
    )
    return box


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _inside(box: Bbox, frame: Bbox) -> bool:
    return frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
