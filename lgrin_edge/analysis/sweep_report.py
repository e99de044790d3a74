"""The sweep's reports: every cell as CSV, the summary as JSON, a markdown table laid out like the paper's
(mean +- std over folds and seeds, parameter counts), and Fig. 6's line plot for the lambdas grid."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgrin_edge.analysis.grids import Grid
from lgrin_edge.atomic import write_bytes

CSV_COLUMNS = (
    "row",
    "dataset",
    "fold",
    "seed",
    "accuracy",
    "unweighted_accuracy",
    "params",
    "total_params",
    "seconds",
    "cell",
)


@dataclass(frozen=True)
class Summary:
    """One (row, dataset) entry: accuracies of its finished cells and its parameter count."""

    row: str
    dataset: str
    accuracies: tuple[float, ...]
    params: int | None
    expected: int  # cells this entry has in the grid

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies)) if self.accuracies else float("nan")

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else 0.0

    def cell_text(self) -> str:
        if not self.accuracies:
            return "n/a"
        text = f"{100 * self.mean:.2f} +- {100 * self.std:.2f}"
        missing = self.expected - len(self.accuracies)
        return text + (f" ({len(self.accuracies)}/{self.expected} cells)" if missing else "")

    def to_dict(self) -> dict:
        return {
            "row": self.row,
            "dataset": self.dataset,
            "n": len(self.accuracies),
            "expected": self.expected,
            "mean_accuracy": self.mean if self.accuracies else None,
            "std_accuracy": self.std if self.accuracies else None,
            "params": self.params,
        }


def summarise(
    grid: Grid,
    datasets: list[str],
    results: dict[tuple[str, str], list[dict]],
    expected: dict[tuple[str, str], int],
) -> list[Summary]:
    """Per row and dataset (grid order): the finished cells' accuracies and the trainable parameters."""
    out = []
    for row, ds in itertools.product(grid.rows, datasets):
        cells = results.get((row.name, ds), [])
        params = cells[0]["params"] if cells else None
        accs = tuple(c["accuracy"] for c in cells)
        out.append(Summary(row.name, ds, accs, params, expected[(row.name, ds)]))
    return out


def _params(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 1000:.1f}K" if n >= 1000 else str(n)


def markdown_table(grid: Grid, datasets: list[str], summaries: list[Summary]) -> str:
    """One table per section of the grid: the row's name, its descriptive columns, then accuracy (%) and
    parameters per dataset."""
    by_key = {(s.row, s.dataset): s for s in summaries}
    names = [Path(d).stem for d in datasets]
    head = [
        "configuration",
        *grid.headers,
        *(f"{n} accuracy (%)" for n in names),
        *(f"{n} params" for n in names),
    ]
    lines: list[str] = []
    for section, rows in itertools.groupby(grid.rows, key=lambda r: r.section):
        if section:
            lines += ["", f"**{section}**", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in rows:
            cells = [by_key[(row.name, d)] for d in datasets]
            values = [c.cell_text() for c in cells] + [_params(c.params) for c in cells]
            lines.append("| " + " | ".join([_escape(row.name), *row.columns, *values]) + " |")
    return "\n".join(lines).strip("\n")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def csv_rows(grid: Grid, results: dict[tuple[str, str], list[dict]]) -> bytes:
    lines = [",".join(CSV_COLUMNS)]
    for row in grid.rows:
        for (name, ds), cells in results.items():
            if name != row.name:
                continue
            for c in sorted(cells, key=lambda c: (c["seed"], c["fold"])):
                values = {**c, "row": row.name, "dataset": ds}
                lines.append(",".join(_csv_value(values.get(k)) for k in CSV_COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def _csv_value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    text = "" if v is None else str(v)
    return f'"{text}"' if "," in text or '"' in text else text


def plot_sections(grid: Grid, datasets: list[str], summaries: list[Summary], path: Path) -> None:
    """Fig. 6's layout: one panel per section (a varied setting), accuracy against its value, one line
    per dataset, the spread over folds and seeds as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lgrin_edge.train.plots import save_figure

    sections = [(s, list(rows)) for s, rows in itertools.groupby(grid.rows, key=lambda r: r.section)]
    fig, axes = plt.subplots(1, len(sections), figsize=(4.5 * len(sections), 3.4), squeeze=False)
    by_key = {(s.row, s.dataset): s for s in summaries}
    for ax, (section, rows) in zip(axes[0], sections, strict=True):
        x = [float(r.columns[0]) for r in rows]
        for d in datasets:
            entries = [by_key[(r.name, d)] for r in rows]
            ax.errorbar(
                x,
                [100 * e.mean for e in entries],
                yerr=[100 * e.std for e in entries],
                marker="o",
                capsize=3,
                label=Path(d).stem,
            )
        ax.set_xscale("log")
        ax.set_xlabel(section)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(grid.title, fontsize=10)
    save_figure(fig, path)


def write_markdown(path: Path, title: str, intro: list[str], table: str, notes: list[str]) -> None:
    text = "\n".join([f"# {title}", "", *intro, "", table, "", *notes]).rstrip() + "\n"
    write_bytes(path, text.encode())
