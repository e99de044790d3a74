"""The README's batch-1 summary table, from a run's inference rows (report.load, report.enrich).

One column per dataset, one row per comparison the README makes: L-GrIN int8 on its fastest runtime,
on the other runtimes and C kernel families, the baselines, the speed-ups and the distance to the compute
floor. Every figure is a median at batch 1 on one thread. A row none of whose benchmarks ran is left out,
and a line under the table names the benchmarks that fill it; a row kept with a part missing prints that
part as n/a, with such a line too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lgrin_edge.export.targets import TARGETS
from lgrin_edge.measure.cells import NA, dataset_title, in_order, unverified
from lgrin_edge.measure.context import FLOOR_SOURCE, FULL_ONLY, measured_on, mode_words, record

LATENCY = "benchmarks/test_latency.py"
KERNELS = "benchmarks/test_c_kernels.py"
# The README's names for what runs a row: an export target, PyTorch, TFLite Micro.
RUNTIME_NAMES = {
    "c": "C99 runtime",
    "tflite": "LiteRT",
    "onnx": "onnxruntime",
    "tensorrt": "TensorRT Q/DQ in onnxruntime",
    "tensorrt-engine": "TensorRT",
    "executorch": "ExecuTorch",
    "pytorch": "PyTorch",
    "tflite-micro": "TensorFlow Lite Micro",
}
# The targets whose L-GrIN int8 file test_latency.py times: the candidates for "fastest runtime".
INT8_TARGETS = tuple(name for name, t in TARGETS.items() if "int8" in t.precisions and t.host_timed)
# (benchmark file, its -k selection); a selection ends with "]" so that "-1]" (batch 1) is not "-16]"
Source = tuple[str, str]


def target(row: dict) -> str:
    """What ran a row: test_latency.py's target ("pytorch" has none), or test_c_kernels.py's "c (...)"."""
    return str(row.get("target", row["runtime"]))


def as_shipped(row: dict) -> bool:
    """A runtime as users get it: not a kernel family or build of the C runtime that test_c_kernels.py
    pins, not a file outside the export tolerance."""
    return not target(row).startswith("c (") and row.get("verified") is not False


@dataclass(frozen=True)
class Part:
    """One benchmark a cell reads: ``model`` on ``target`` in ``precision``, batch 1, one thread."""

    model: str
    target: str  # test_latency.py's target, or test_c_kernels.py's "c (<case label>)"
    precision: str

    @property
    def source(self) -> Source:
        if self.target.startswith("c ("):
            return KERNELS, f"{self.target[3:-1]}-b1-t1]"
        return LATENCY, f"{self.model}-{self.target}-{self.precision}-1]"

    def find(self, rows: list[dict], dataset: str) -> dict | None:
        return next(
            (
                r
                for r in rows
                if (r["dataset"], r["model"], target(r), r["precision"], r["batch"])
                == (dataset, self.model, self.target, self.precision, 1)
                and (r.get("threads") or 1) == 1
            ),
            None,
        )


@dataclass
class Cell:
    """A row's figure for one dataset; ``text`` None: none of its benchmarks ran for that dataset."""

    text: str | None
    missing: list[Source] = field(default_factory=list)  # what would fill its n/a parts
    name: str = ""  # the runtime a "fastest" or "best" row chose


def ms(seconds: float) -> str:
    """A latency in ms to about three significant digits (0.038, 1.63, 34.7)."""
    value = seconds * 1e3
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def pct(accuracy: float) -> str:
    """A test accuracy as the README writes it: 97.3%, 100%."""
    return "100%" if accuracy == 1 else f"{100 * accuracy:.1f}%"


def times(ratio: float) -> str:
    """A speed-up: 43x, 1.6x."""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def latencies(*parts: Part, accuracy: bool = False) -> Callable[[list[dict], str], Cell]:
    """The cell "a / b ms[, accuracy]" of ``parts``, n/a for each that did not run."""

    def cell(rows: list[dict], dataset: str) -> Cell:
        found = [p.find(rows, dataset) for p in parts]
        missing = [p.source for p, r in zip(parts, found, strict=True) if r is None]
        present = [r for r in found if r]
        if not present:
            return Cell(None, missing)
        text = " / ".join(ms(r["median_s"]) if r else NA for r in found) + " ms"
        if accuracy:
            text += f", {pct(present[0]['accuracy'])}"
        return Cell(text + "".join(map(unverified, present)), missing)

    return cell


FASTEST = [Part("lgrin", t, "int8") for t in INT8_TARGETS]
FASTEST_SOURCE: Source = (LATENCY, "(lgrin and int8-1])")


def fastest(rows: list[dict], dataset: str) -> dict | None:
    """L-GrIN int8's fastest runtime as users get it, batch 1, one thread."""
    found = [r for r in (p.find(rows, dataset) for p in FASTEST) if r and as_shipped(r)]
    return min(found, key=lambda r: r["median_s"]) if found else None


def fastest_cell(rows: list[dict], dataset: str) -> Cell:
    best = fastest(rows, dataset)
    missing = [p.source for p in FASTEST if p.find(rows, dataset) is None]
    if best is None:
        return Cell(None, [FASTEST_SOURCE])
    text = f"{ms(best['median_s'])} ms, {pct(best['accuracy'])}"
    return Cell(text, missing, RUNTIME_NAMES.get(target(best), target(best)))


def speedups(*bases: Part) -> Callable[[list[dict], str], Cell]:
    """The cell "a / b" of each base's median over L-GrIN int8's fastest, n/a where a base did not run."""

    def cell(rows: list[dict], dataset: str) -> Cell:
        best = fastest(rows, dataset)
        found = [p.find(rows, dataset) for p in bases]
        missing = [p.source for p, r in zip(bases, found, strict=True) if r is None]
        if best is None or not any(found):
            return Cell(None, missing + ([FASTEST_SOURCE] if best is None else []))
        return Cell(" / ".join(times(r["median_s"] / best["median_s"]) if r else NA for r in found), missing)

    return cell


def floor_cell(rows: list[dict], dataset: str) -> Cell:
    """Per precision, the L-GrIN runtime nearest its compute floor (report.enrich's floor_multiple)."""
    lgrin = [
        r
        for r in rows
        if (r["dataset"], r["model"], r["batch"]) == (dataset, "lgrin", 1)
        and (r.get("threads") or 1) == 1
        and as_shipped(r)
        and r.get("floor_multiple")
    ]
    if not lgrin:  # the GEMM rates, or the L-GrIN rows, did not run
        ran = any((r["dataset"], r["model"], r["batch"]) == (dataset, "lgrin", 1) for r in rows)
        return Cell(None, [(FLOOR_SOURCE, "") if ran else (LATENCY, "(lgrin and 1])")])
    parts = []
    for precision in ("fp32", "int8"):
        own = [r for r in lgrin if r["precision"] == precision]
        best = min(own, key=lambda r: r["floor_multiple"]) if own else None
        name = RUNTIME_NAMES.get(target(best), target(best)) if best else ""
        parts.append(f"{precision}: {best['floor_multiple']:.1f}x ({name})" if best else f"{precision}: {NA}")
    return Cell("; ".join(parts))


# (label, cell); "{name}" in a label: the runtime the row chose, where it is the same for every dataset
ROWS: list[tuple[str, Callable[[list[dict], str], Cell]]] = [
    ("L-GrIN int8, fastest runtime ({name})", fastest_cell),
    (
        "L-GrIN int8, LiteRT / onnxruntime / TensorRT Q/DQ in onnxruntime",
        latencies(
            Part("lgrin", "tflite", "int8"), Part("lgrin", "onnx", "int8"), Part("lgrin", "tensorrt", "int8")
        ),
    ),
    (
        "L-GrIN int8, C99 runtime with its AVX2 / portable kernels",
        latencies(Part("lgrin", "c (dispatch-avx2)", "int8"), Part("lgrin", "c (dispatch-portable)", "int8")),
    ),
    ("BLSTM fp32 (PyTorch)", latencies(Part("blstm", "pytorch", "fp32"), accuracy=True)),
    (
        "SENet paper scale fp32 (PyTorch / onnxruntime)",
        latencies(Part("senet-paper", "pytorch", "fp32"), Part("senet-paper", "onnx", "fp32"), accuracy=True),
    ),
    ("SENet compact int8 (onnxruntime)", latencies(Part("senet", "onnx", "int8"), accuracy=True)),
    ("L-GrIN int8 speed-up vs BLSTM fp32", speedups(Part("blstm", "pytorch", "fp32"))),
    (
        "L-GrIN int8 speed-up vs paper-scale SENet fp32 (PyTorch / onnxruntime)",
        speedups(Part("senet-paper", "pytorch", "fp32"), Part("senet-paper", "onnx", "fp32")),
    ),
    ("best L-GrIN runtime vs compute floor", floor_cell),
]


def _selection(sources: list[Source], mode: str | None) -> str:
    """What fills the cells of ``sources``: the pytest command per benchmark file, each with its -k
    selection; where a fast run leaves a case out on purpose, why, and the command in full mode."""
    by_file: dict[str, list[str]] = {}
    for file, case in sources:
        by_file.setdefault(file, [])
        if case and case not in by_file[file]:
            by_file[file].append(case)
    fast = mode == "fast"
    why = sorted({FULL_ONLY[m] for m in FULL_ONLY for _, case in sources if fast and case.startswith(m)})
    full = " --bench-training=full" if why else ""
    runs = " and ".join(
        f"`pytest --benchmark-only{full} {file}" + (f' -k "{" or ".join(cases)}"`' if cases else "`")
        for file, cases in by_file.items()
    )
    return f"{'; '.join(why)}; {runs}" if full else runs


def summary_markdown(rows: list[dict], machine: dict, date: str | None) -> str:
    """The table, a line per row left out or incomplete, and the sentence naming the run."""
    datasets = in_order([r["dataset"] for r in rows])
    rec = record(machine)
    lines = [
        "| batch 1, one thread | " + " | ".join(dataset_title(d) for d in datasets) + " |",
        "|---|" + "---|" * len(datasets),
    ]
    notes = []
    mode = rec.get("bench_training")
    for label, make in ROWS:
        cells = [make(rows, d) for d in datasets]
        missing = [s for c in cells for s in c.missing]
        names = {c.name for c in cells if c.text is not None}
        plain = label.replace(" ({name})", "")
        if all(c.text is None for c in cells):
            notes.append(f"- {plain}: left out, not in this run: {_selection(missing, mode)} fills it.")
            continue
        shared = len(names) == 1
        texts = [
            NA if c.text is None else c.text + (f" ({c.name})" if c.name and not shared else "")
            for c in cells
        ]
        title = label.format(name=names.pop()) if shared else plain
        lines.append(f"| {title} | " + " | ".join(texts) + " |")
        if missing and plain != label:
            notes.append(
                f"- {plain}: among the runtimes in this run; {_selection(missing, mode)} adds the others."
            )
        elif missing:
            notes.append(f"- {title}: {NA} where not in this run; {_selection(missing, mode)} fills it.")
    sentence = (
        f"Medians of pytest-benchmark's rounds at batch 1 on one thread, test accuracy of the seed-"
        f"{rec.get('seed', NA)} models; measured on {measured_on(machine, date)}, training mode "
        f"{mode_words(machine)}."
    )
    return "\n".join([*lines, "", *notes, *([""] if notes else []), sentence]) + "\n"
