"""The README's accuracy-over-seeds table, from benchmarks/test_accuracy.py's rows (kind "seeds").

One row per model in the README's order, two columns per dataset: the test accuracy (%) as mean +- sample
standard deviation with each seed's in brackets (none where every seed scored the same), and the
trainable parameters. L-GrIN's mean is bold, as the README has it. A model that did not run is left out,
with a line under the table naming the benchmark that fills it.
"""

from __future__ import annotations

import re

from lgrin_edge.data.bundled import BUNDLED
from lgrin_edge.measure.cells import NA, dataset_title, fmt, in_order
from lgrin_edge.measure.context import measured_on, record

SOURCE = "benchmarks/test_accuracy.py"
# test_accuracy.py's labels in the README's order, with the README's words for them.
MODEL_NAMES = {
    "lgrin": "L-GrIN",
    "lgrin-paper-start": "L-GrIN, `--recipe paper-start`",
    "lgrin-graph": "L-GrIN, `--recipe graph`",
    "blstm": "BLSTM",
    "senet": "SENet (compact)",
    "gcn": "GCN (eq. 2, binary chain)",
}
BOLD = "lgrin"


def _column(dataset: str, rows: list[dict]) -> str:
    """ "JapaneseVowels (9 speakers, 370 test)": the classes in the words of the bundled dataset's
    description where it has them, and the size of the test split, as the run recorded them."""
    row = next((r for r in rows if r["dataset"] == dataset and r.get("classes")), None)
    if row is None:
        return dataset_title(dataset)
    n = row["classes"]
    words = re.search(rf"\b{n} (\w+)", BUNDLED[dataset][1]) if dataset in BUNDLED else None
    test = f", {row['test_samples']} test" if row.get("test_samples") else ""
    return f"{dataset_title(dataset)} ({n} {words.group(1) if words else 'classes'}{test})"


def _cell(row: dict | None, bold: bool) -> list[str]:
    """The accuracy and the parameters of one model on one dataset."""
    if row is None:
        return [NA, NA]
    mean = " +- ".join(fmt(row.get(k), ".2f", scale=100) for k in ("accuracy_mean", "accuracy_std"))
    each = row.get("accuracies") or []
    seeds = f" ({' '.join(f'{100 * a:.2f}' for a in each)})" if len(set(each)) > 1 else ""
    params = f"{row['params']:,}" if row.get("params") is not None else NA
    return [(f"**{mean}**" if bold else mean) + seeds, params]


def seed_words(seeds: list[int]) -> str:
    """The seeds in words: seeds 0-4, seeds 0, 2, 7, seed 0; seeds n/a where the run did not record them."""
    if not seeds:
        return f"seeds {NA}"
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    consecutive = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"seeds {seeds[0]}-{seeds[-1]}" if consecutive else "seeds " + ", ".join(map(str, seeds))


def accuracy_markdown(rows: list[dict], machine: dict, date: str | None) -> str:
    """The table, a line per model left out or missing a dataset, and the sentence naming the run."""
    datasets = in_order([r["dataset"] for r in rows])
    labels = list(MODEL_NAMES) + [m for m in in_order([r["model"] for r in rows]) if m not in MODEL_NAMES]
    head = ["model"] + [c for d in datasets for c in (_column(d, rows), "params")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    notes = []
    for label in labels:
        name = MODEL_NAMES.get(label, label)
        found = {
            d: next((r for r in rows if (r["dataset"], r["model"]) == (d, label)), None) for d in datasets
        }
        absent = [d for d, r in found.items() if r is None]
        if absent:
            which = [f"{label}]"] if len(absent) == len(datasets) else [f"{d}-{label}]" for d in absent]
            what = (
                "left out, not in this run" if len(absent) == len(datasets) else f"{NA} where not in this run"
            )
            notes.append(
                f'- {name}: {what}; `pytest --benchmark-only {SOURCE} -k "{" or ".join(which)}"` fills it.'
            )
        if len(absent) < len(datasets):
            cells = [c for d in datasets for c in _cell(found[d], label == BOLD)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    # one pytest run has one --bench-seeds: several sets mean a JSON pieced together from several runs
    seed_sets = in_order([tuple(r.get("seeds") or ()) for r in rows])
    seeds = "seeds differing by row" if len(seed_sets) > 1 else seed_words(list(seed_sets[0]))
    epochs = "/".join(map(str, in_order([r["epochs"] for r in rows if r.get("epochs")]))) or NA
    mode = record(machine).get("bench_training")
    sentence = (
        f"Test accuracy (%) on the official test splits, mean +- standard deviation over {seeds} (each seed "
        f"in brackets where they differ), {epochs} epochs{f' (--bench-training={mode})' if mode else ''}, "
        f"one torch thread, the default recipe unless a row names another; trained on "
        f"{measured_on(machine, date)}; params: trainable parameters."
    )
    return "\n".join([*lines, "", *notes, *([""] if notes else []), sentence]) + "\n"
