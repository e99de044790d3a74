"""Turn pytest-benchmark JSON into a markdown report, a Pareto plot (accuracy against latency) and the
tables README.md shows.

report.md opens with what the timings depend on (seed and training mode of the timed models, CPU and its
kernel flags, library versions: benchmarks/conftest.py records them); its latency columns give the
median, p90, p99 and interquartile range; the compute-floor columns are filled from the GEMM-rate
benchmarks of the same run, or a line says they did not run. Missing optional fields print as n/a.
Beside it, where the JSON holds their benchmarks: summary.md (the README's batch-1 table), accuracy.md
(the README's accuracy over seeds) and c_runtime.md (the C runtime against its peers). report.md ends
with the on-device front-end's cost per hop (benchmarks/test_frontend.py), or the command that measures
it where the JSON lacks those benchmarks (lgrin_edge/measure/frontend.py), then, where the JSON holds
them, a live stream's cost per decision hop (benchmarks/test_stream.py), also alone in stream.md
(lgrin_edge/measure/stream.py), aeon's baselines beside L-GrIN (benchmarks/test_practitioners.py), and
the web export's wasm runtime beside onnxruntime-web and LiteRT.js in Chromium
(benchmarks/test_browser.py), also alone in browser.md (lgrin_edge/measure/browser.py). Each markdown
file begins with a comment naming the commands that wrote it; one that does not is not replaced
without --overwrite.

Example: pytest --benchmark-only --benchmark-json=bench.json
         python -m lgrin_edge.measure.report bench.json --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import Parser, UserError, run
from lgrin_edge.measure.accuracy import accuracy_markdown
from lgrin_edge.measure.browser import FILE as BROWSER_FILE
from lgrin_edge.measure.browser import KIND as BROWSER
from lgrin_edge.measure.browser import browser_markdown
from lgrin_edge.measure.cells import NA, fmt, unverified
from lgrin_edge.measure.context import FLOOR_SOURCE, header_lines, record, recorded_peak
from lgrin_edge.measure.frontend import KIND as FRONTEND
from lgrin_edge.measure.frontend import frontend_markdown
from lgrin_edge.measure.outputs import PROG, check_replaceable, comment_line
from lgrin_edge.measure.pareto import pareto_plot
from lgrin_edge.measure.peak import peak
from lgrin_edge.measure.peers import peers_markdown
from lgrin_edge.measure.stream import FILE as STREAM_FILE
from lgrin_edge.measure.stream import KIND as STREAM
from lgrin_edge.measure.stream import stream_markdown
from lgrin_edge.measure.summary import summary_markdown
from lgrin_edge.measure.timing import summary

# What each inference row's extra_info must hold (benchmarks/ writes them); other keys are optional and
# print as n/a where absent.
ROW_KEYS = ("model", "dataset", "runtime", "precision", "batch", "accuracy", "params")


@dataclass
class Floor:
    """The compute floor's GEMM rates (MAC/s per precision) measured in the run, and what measured each."""

    rates: dict[str, float] = field(default_factory=dict)
    runtimes: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(
            f"{p} {v / 1e9:.0f} GMAC/s ({self.runtimes.get(p, 'runtime n/a')})"
            for p, v in sorted(self.rates.items())
        )

    def missing(self, *columns: str) -> str:
        """The line under a table that says why it has no floor columns."""
        return (
            f"No {' or '.join(columns)} column{'s' if len(columns) > 1 else ''}: the GEMM-rate benchmarks "
            f"({FLOOR_SOURCE}) did not run in this JSON's run; run them in the same pytest call to get "
            f"{'them' if len(columns) > 1 else 'it'}."
        )


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not JSON ({e}); pass the file written by pytest --benchmark-json") from e
    except UnicodeDecodeError:
        raise UserError(
            f"{path} is not a text file; pass the file written by pytest --benchmark-json"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise UserError(f"{path} has no 'benchmarks' list: not a pytest-benchmark JSON file")
    return data


def _benchmarks(path: Path, data: dict) -> list[tuple[dict, dict]]:
    """(extra_info, timing summary) of every benchmark; one without a median is named as an error."""
    out = []
    for b in data["benchmarks"]:
        name = b.get("name", "?") if isinstance(b, dict) else "?"
        try:
            info = b.get("extra_info") or {}
            out.append((info, summary(b["stats"], info)))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise UserError(f"{path}: benchmark {name!r} has no stats.median") from None
    return out


@dataclass
class Bench:
    """A benchmark JSON's parts: inference rows, the floor, training and seed rows, machine_info, the
    run's date (pytest-benchmark's datetime) and the on-device front-end's rows."""

    rows: list[dict]
    floor: Floor
    training: list[dict]
    seeds: list[dict]
    machine: dict
    date: str | None = None
    frontend: list[dict] = field(default_factory=list)
    stream: list[dict] = field(default_factory=list)
    browser: list[dict] = field(default_factory=list)


def load(path: Path) -> Bench:
    """Read and check a pytest-benchmark JSON written by benchmarks/."""
    data = _read(path)
    rows, floor, kinds = [], Floor(), {"training": [], "seeds": [], FRONTEND: [], STREAM: [], BROWSER: []}
    for (info, timing), b in zip(_benchmarks(path, data), data["benchmarks"], strict=True):
        kind = info.get("kind")
        if kind in kinds:
            kinds[kind].append({**info, **timing})
        elif kind == "floor":
            if "precision" not in info or "macs" not in info:
                raise UserError(f"{path}: floor benchmark {b.get('name', '?')!r} lacks precision or macs")
            floor.rates[info["precision"]] = info["macs"] / timing["median_s"]
            floor.runtimes[info["precision"]] = info.get("runtime", "runtime n/a")
        elif "model" in info:
            missing = [k for k in ROW_KEYS if k not in info]
            if missing:
                raise UserError(
                    f"{path}: benchmark {b.get('name', '?')!r} lacks {', '.join(missing)} in extra_info"
                )
            rows.append({**info, **timing})
    if not rows and not any(kinds.values()):
        raise UserError(f"{path} holds no lgrin-edge benchmarks")
    machine = data.get("machine_info") if isinstance(data.get("machine_info"), dict) else {}
    date = data.get("datetime") if isinstance(data.get("datetime"), str) else None
    trained = kinds["training"], kinds["seeds"]
    return Bench(rows, floor, *trained, machine, date, kinds[FRONTEND], kinds[STREAM], kinds[BROWSER])


def seeds_markdown(rows: list[dict], seed: object) -> str:
    """Test accuracy per model and dataset: mean +- sample std over the seeds, the lowest, each seed."""
    lines = [
        "| dataset | model | params | seeds | accuracy (%) mean +- std | lowest | per seed | test-set pass |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def pct(value: float | None) -> str:
        return fmt(value, ".2f", scale=100)

    for r in sorted(rows, key=lambda r: (str(r.get("dataset")), -(r.get("accuracy_mean") or 0))):
        acc = r.get("accuracies") or []
        each = " ".join(f"{100 * a:.2f}" for a in acc) or NA
        lines.append(
            f"| {fmt(r.get('dataset'))} | {fmt(r.get('model'))} | {fmt(r.get('params'), ',')} "
            f"| {len(r.get('seeds') or []) or NA} "
            f"| {pct(r.get('accuracy_mean'))} +- {pct(r.get('accuracy_std'))} "
            f"| {pct(min(acc) if acc else None)} | {each} "
            f"| {fmt(r['median_s'], '.1f', ' ms', 1e3)} |"
        )
    epochs = sorted({r["epochs"] for r in rows if r.get("epochs")})
    head = (
        f"\n## Accuracy over seeds (default recipe, {'/'.join(map(str, epochs)) or NA} epochs, official test "
        f"split; the tables above are seed {fmt(seed)})\n\n"
    )
    return head + "\n".join(lines) + "\n"


def practitioners_markdown(rows: list[dict], seeds: list[dict]) -> str:
    """aeon's baselines (benchmarks/test_practitioners.py) beside L-GrIN: accuracy over seeds, the size of
    the fitted arrays, batch-1 latency in their own runtime; "" where the JSON holds none of them."""
    own = [r for r in rows if r.get("practitioners") and r["batch"] == 1]
    if not own:
        return ""

    def over_seeds(dataset: str, model: str) -> str:
        r = next((r for r in seeds if (r.get("dataset"), r.get("model")) == (dataset, model)), None)
        if r is None:
            return NA
        mean, std = (fmt(r.get(k), ".2f", scale=100) for k in ("accuracy_mean", "accuracy_std"))
        return f"{mean} +- {std} ({len(r.get('seeds') or [])})"

    lines = [
        "\n## Practitioners' baselines (aeon, in their own runtime, one thread)\n",
        "| dataset | model | runtime | accuracy (%) mean +- std (seeds) | L-GrIN (%) same seeds "
        "| fitted values | fitted bytes | batch-1 median | p90 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(own, key=lambda r: (r["dataset"], r["median_s"])):
        cells = [
            r["dataset"], r["model"], r["runtime"], over_seeds(r["dataset"], r["model"]),
            over_seeds(r["dataset"], "lgrin"), f"{r['params']:,}", fmt(r.get("bytes"), ","),
            *(fmt(r.get(k), ".3f", " ms", 1e3) for k in ("median_s", "p90_s")),
        ]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += [
        "",
        "Trained by `python -m lgrin_edge.train --model NAME` on the same split as L-GrIN (each fold's "
        "validation part included: no early stopping), aeon's defaults; fitted values and bytes: every "
        "array the run saves (the transform's kernels, the scaler, the ridge classifier); latency: a warm "
        "call on one test sequence through aeon's transform and the ridge classifier. No export: they run "
        "where aeon runs.",
    ]
    return "\n".join(lines) + "\n"


def training_markdown(rows: list[dict], floor: Floor) -> str:
    """Graphs/s beside the floor: 3 x forward MACs per graph at the fp32 GEMM rate x threads."""
    rate = floor.rates.get("fp32")
    names = ["configuration (M, P)", "threads", "graphs/s", "median step", "p90", "p99"]
    names += ["floor graphs/s", "x floor"] if rate else []
    lines = ["| " + " | ".join([*names, "max pool"]) + " |", "|" + "---|" * (len(names) + 1)]
    for r in sorted(rows, key=lambda r: (str(r.get("config")), r.get("threads") or 0)):
        speed = r["batch"] / r["median_s"] if r.get("batch") else None
        cells = [
            f"{fmt(r.get('config'))} ({fmt(r.get('num_nodes'))}, {fmt(r.get('in_features'))})",
            fmt(r.get("threads")),
            fmt(speed, ",.0f"),
            *(fmt(r.get(k), ".1f", " ms", 1e3) for k in ("median_s", "p90_s", "p99_s")),
        ]
        if rate:
            ok = r.get("threads") and r.get("macs")
            best = rate * r["threads"] / r["macs"] if ok else None
            cells += [fmt(best, ",.0f"), fmt(best / speed if best and speed else None, ".1f")]
        lines.append("| " + " | ".join([*cells, fmt(r.get("maxpool"))]) + " |")
    note = (
        "floor graphs/s: what L-GrIN's training multiply-accumulates (three times the forward's: forward "
        f"and backward) allow at the fp32 GEMM rate x threads, measured by {FLOOR_SOURCE} in the same run "
        f"({floor.describe()}); x floor: floor graphs/s over graphs/s."
        if rate
        else floor.missing("floor graphs/s", "x floor")
    )
    return "\n".join([*lines, "", note]) + "\n"


def enrich(rows: list[dict], floor: Floor) -> None:
    """Speed-up against BLSTM fp32 (PyTorch) at the same dataset and batch; multiple of the compute floor."""
    base = {
        (r["dataset"], r["batch"]): r["median_s"]
        for r in rows
        if r["model"] == "blstm" and r["runtime"] == "pytorch"
    }
    for r in rows:
        ref = base.get((r["dataset"], r["batch"]))
        r["speedup_vs_blstm"] = ref / r["median_s"] if ref else None
        rate = floor.rates.get("int8" if r["precision"] == "int8" else "fp32")
        r["floor_multiple"] = (
            r["median_s"] / (r["macs"] * r["batch"] / rate) if r.get("macs") and rate else None
        )


def _runtime(r: dict) -> str:
    runtime = str(r.get("target", r["runtime"]))
    if (r.get("threads") or 1) > 1:
        runtime += f", {r['threads']} threads"
    return runtime + unverified(r)


def markdown(rows: list[dict], floor: Floor, machine: dict) -> str:
    """The run's header and the inference table: accuracy, size, latency's median, tails and spread."""
    head = (
        "| dataset | model | runtime | precision | batch | accuracy | params | size | median latency "
        "| p90 | p99 | IQR | rounds | speed-up vs BLSTM fp32 |"
    )
    head += " x GEMM floor |" if floor.rates else ""
    lines = [*header_lines(machine), "", head, "|" + "---|" * (head.count("|") - 1)]
    ms = {"spec": ".3f", "unit": " ms", "scale": 1e3}
    for r in sorted(rows, key=lambda r: (r["dataset"], r["batch"], r["median_s"])):
        cells = [
            r["dataset"], r["model"], _runtime(r), r["precision"], r["batch"], f"{r['accuracy']:.4f}",
            f"{r['params']:,}", fmt(r.get("bytes"), ".0f", " KiB", 1 / 1024),
            *(fmt(r.get(k), **ms) for k in ("median_s", "p90_s", "p99_s", "iqr_s")),
            fmt(r.get("rounds")), fmt(r.get("speedup_vs_blstm"), ".1f", "x"),
        ]  # fmt: skip
        if floor.rates:
            cells.append(fmt(r.get("floor_multiple"), ".1f"))
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += [
        "",
        "Latency: pytest-benchmark's rounds (one call each, or the mean of several calls where it calibrated "
        "more); p90, p99: nearest-rank percentiles of the rounds (with fewer than 100 rounds p99 is the "
        "slowest round); IQR: the spread of the middle half. Speed-up: BLSTM fp32 (PyTorch)'s median at the "
        "same dataset and batch over the row's; n/a without that row.",
        f"x GEMM floor: the median over the time L-GrIN's multiply-accumulates (x batch) take at this CPU's "
        f"single-thread GEMM rate, measured by {FLOOR_SOURCE} in the same run: {floor.describe()}; n/a where "
        "the rate or the MACs (counted for L-GrIN only) are missing."
        if floor.rates
        else floor.missing("x GEMM floor"),
    ]
    return "\n".join(lines) + "\n"


def outputs(bench: Bench) -> dict[str, str]:
    """Every markdown file's text (without its comment line) by name; a file whose benchmarks are not in
    the JSON is not among them."""
    files = {}
    if bench.rows:
        enrich(bench.rows, bench.floor)
        cpu = recorded_peak(bench.machine)
        peers = peers_markdown(bench.rows, bench.floor.rates, cpu or peak(), recorded=cpu is not None)
        text = markdown(bench.rows, bench.floor, bench.machine) + ("\n" + peers if peers else "")
        files["summary.md"] = summary_markdown(bench.rows, bench.machine, bench.date)
        if peers:
            files["c_runtime.md"] = "\n".join(header_lines(bench.machine)) + "\n\n" + peers
    else:
        text = "\n".join(header_lines(bench.machine)) + "\n"
    if bench.seeds:
        text += seeds_markdown(bench.seeds, record(bench.machine).get("seed"))
        files["accuracy.md"] = accuracy_markdown(bench.seeds, bench.machine, bench.date)
    text += practitioners_markdown(bench.rows, bench.seeds)
    if bench.training:
        text += "\n## Training throughput (batch 32, one optimisation step)\n\n" + training_markdown(
            bench.training, bench.floor
        )
    text += frontend_markdown(bench.frontend)
    streaming = stream_markdown(bench.stream, bench.machine)
    if streaming:
        text += streaming
        files[STREAM_FILE] = "\n".join(header_lines(bench.machine)) + "\n" + streaming
    in_browser = browser_markdown(bench.browser)
    if in_browser:
        text += in_browser
        files[BROWSER_FILE] = "\n".join(header_lines(bench.machine)) + "\n" + in_browser
    return {"report.md": text, **files}


def _main(argv: list[str] | None = None) -> int:
    p = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json", type=Path, help="file written by pytest --benchmark-json")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results"),
        help="folder for report.md, pareto.png, summary.md, accuracy.md, c_runtime.md, stream.md and "
        "browser.md",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="also replace markdown files in --out that this report did not write (hand-written tables)",
    )
    args_given = sys.argv[1:] if argv is None else argv
    args = p.parse_args(args_given)
    bench = load(args.json)
    files = outputs(bench)
    paths = [args.out / name for name in files]
    check_replaceable(paths, args.overwrite)
    head = comment_line(args_given, record(bench.machine).get("command")) + "\n\n"
    if bench.rows:
        pareto_plot(bench.rows, args.out / "pareto.png")
        paths.insert(1, args.out / "pareto.png")
    for name, text in files.items():
        write_bytes(args.out / name, (head + text).encode())
    print(files["report.md"])
    left = [
        n for n in ("summary.md", "accuracy.md", "c_runtime.md", STREAM_FILE, BROWSER_FILE) if n not in files
    ]
    print(f"written: {', '.join(str(o) for o in paths)}")
    if left:
        print(f"not written (their benchmarks are not in {args.json}): {', '.join(left)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
