"""The practitioners' table: accuracy mean +- std over seeds per (dataset, model), each model's mean rank,
what every missing or failed cell is, and how the numbers were made (command, CPU, threads)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from lgrin_edge.analysis.practitioners_data import Source

# Written first in every table this command writes: only a file that starts so is replaced by a later run.
MARK = "<!-- written by python -m lgrin_edge.analysis.practitioners; a re-run replaces this file -->"


@dataclass(frozen=True)
class Entry:
    """One (dataset, model) entry: the accuracies of its finished seeds, of the seeds asked for."""

    dataset: str
    model: str
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    expected: tuple[int, ...]
    seconds: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies)) if self.accuracies else float("nan")

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else float("nan")

    def text(self) -> str:
        if not self.accuracies:
            return "missing"
        spread = "" if len(self.accuracies) < 2 else f" +- {100 * self.std:.2f}"
        short = len(self.accuracies) < len(self.expected)
        return f"{100 * self.mean:.2f}{spread}" + (f" ({len(self.accuracies)}/{len(self.expected)})" * short)

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "seeds": list(self.seeds),
            "accuracies": list(self.accuracies),
            "mean_accuracy": None if not self.accuracies else self.mean,
            "std_accuracy": None if len(self.accuracies) < 2 else self.std,
            "missing_seeds": [s for s in self.expected if s not in self.seeds],
            "seconds": list(self.seconds),
        }


def entries(records: list[dict], sources: list[Source], models: list[str], seeds: list[int]) -> list[Entry]:
    """Every (dataset, model) entry in table order, from the finished cells' records."""
    found: dict[tuple[str, str], dict[int, dict]] = {}
    for r in records:
        found.setdefault((r["dataset"], r["model"]), {})[r["seed"]] = r
    out = []
    for src in sources:
        for model in models:
            done = found.get((src.key, model), {})
            kept = [s for s in seeds if s in done]
            out.append(
                Entry(
                    src.key, model, tuple(kept), tuple(float(done[s]["accuracy"]) for s in kept),
                    tuple(seeds), tuple(float(done[s]["wall_seconds"]) for s in kept),
                )
            )  # fmt: skip
    return out


def mean_ranks(table: list[Entry], models: list[str]) -> tuple[dict[str, float], list[str]]:
    """Each model's mean rank (1 = best mean accuracy, ties share their mean rank) over the datasets
    where every model has at least one finished seed, and those datasets."""
    by_data: dict[str, dict[str, Entry]] = {}
    for e in table:
        by_data.setdefault(e.dataset, {})[e.model] = e
    ranked = [d for d, row in by_data.items() if all(row[m].accuracies for m in models)]
    if not ranked:
        return {}, []
    # Rounded: equal accuracies averaged in another order must tie, not differ in the 16th digit.
    ranks = np.array([rankdata([-round(by_data[d][m].mean, 9) for m in models]) for d in ranked])
    return {m: float(ranks[:, i].mean()) for i, m in enumerate(models)}, ranked


def _data_text(src: Source) -> str:
    low, high = src.lengths
    steps = f"{low}" if low == high else f"{low}-{high}"
    train = src.sequences - src.test
    split = f"{train}/{src.test}" if src.test else f"{src.sequences}, k-fold"
    return f"{src.key} ({split}, {src.classes} cl., {src.channels} ch., {steps} steps)"


def table_rows(table: list[Entry], sources: list[Source], models: list[str]) -> list[str]:
    """The markdown table: a row per dataset, a column per model, then each model's mean rank."""
    gap = "lgrin" in models and "minirocket" in models
    head = ["dataset (train/test, classes, channels, steps)", *models] + (["L-GrIN - MiniRocket"] * gap)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cells = {(e.dataset, e.model): e for e in table}
    for src in sources:
        row = [_data_text(src)] + [cells[(src.key, m)].text() for m in models]
        if gap:
            a, b = cells[(src.key, "lgrin")], cells[(src.key, "minirocket")]
            row.append(f"{100 * (a.mean - b.mean):+.2f}" if a.accuracies and b.accuracies else "")
        lines.append("| " + " | ".join(row) + " |")
    ranks, ranked = mean_ranks(table, models)
    rank_cells = [f"{ranks[m]:.2f}" if ranks else "" for m in models]
    lines.append(
        f"| **mean rank** (over {len(ranked)} datasets) | " + " | ".join(rank_cells) + " |" + " |" * gap
    )
    seconds = [np.median([s for e in table if e.model == m for s in e.seconds] or [np.nan]) for m in models]
    lines.append("| median s per training | " + " | ".join(f"{s:.0f}" for s in seconds) + " |" + " |" * gap)
    return lines


def _seed_text(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds))


def missing_lines(table: list[Entry], failures: dict[str, str]) -> list[str]:
    """A line per (dataset, model) with seeds not finished, and why where a run failed."""
    lines = []
    for e in table:
        left = [s for s in e.expected if s not in e.seeds]
        if left:
            why = [
                failures[f"{e.dataset}/{e.model}/{s}"]
                for s in left
                if f"{e.dataset}/{e.model}/{s}" in failures
            ]
            reason = f" (failed: {why[0]})" if why else " (not run yet)"
            lines.append(f"- {e.model} on {e.dataset}: seed(s) {_seed_text(left)}{reason}")
    return lines


def markdown(title: str, intro: list[str], table: list[str], missing: list[str], notes: list[str]) -> str:
    parts = [MARK, f"# {title}", "", *intro, "", *table, ""]
    if missing:
        parts += ["Cells not in the table (nothing is estimated for them):", "", *missing, ""]
    parts += notes
    return "\n".join(parts).rstrip() + "\n"
