"""The report's section "In the browser": the web export's wasm runtime beside onnxruntime-web and
LiteRT.js in the same headless Chromium, from the benchmarks of benchmarks/test_browser.py (extra_info
``kind`` "browser").

One row per (runtime, file): the bytes a page downloads to run it (the runtime's .js/.mjs and .wasm files
and the model, as the page fetched them), the batch-1 and streaming-hop times (median and p10-p90 of
rounds the page timed itself), the browser and the CPU; a runtime that refused the file shows its error
in place of the times. Under the table: what each time covers, the files of each runtime, and the goal
(the wasm runtime fastest and the smallest download), met or not.
"""

from __future__ import annotations

from lgrin_edge.measure.cells import NA, dataset_title, fmt, in_order
from lgrin_edge.measure.frontend import duration

SOURCE = "benchmarks/test_browser.py"
KIND = "browser"
FILE = "browser.md"
ONE, HOP = "batch 1", "hop"  # the two stages of every pair
OURS = "lgrin.js"  # the start of the wasm runtime's rows' runtime


def _pairs(rows: list[dict]) -> list[dict[str, dict]]:
    """The rows (of one dataset) by (runtime, file): {stage: row}, the wasm runtime first, then by
    batch-1 median."""
    pairs: dict[tuple, dict[str, dict]] = {}
    for r in rows:
        pairs.setdefault((r.get("dataset"), r.get("runtime"), r.get("file")), {})[str(r.get("stage"))] = r
    inf = float("inf")

    def order(p: dict[str, dict]) -> tuple:
        first, one = next(iter(p.values())), p.get(ONE, {})
        median = inf if one.get("error") else one.get("median_s", inf)
        return not str(first.get("runtime")).startswith(OURS), median

    return sorted(pairs.values(), key=order)


def _time(row: dict | None) -> str:
    if row is None:
        return NA
    if row.get("error"):
        return f"refused ({row['error']})"
    return f"{duration(row['median_s'])} [{duration(row.get('p10_s'))}-{duration(row.get('p90_s'))}]"


def _download(row: dict) -> str:
    """Total bytes, and how many of them are the model file."""
    model = sum(
        f.get("bytes") or 0
        for f in row.get("files") or ()
        if str(f.get("file")).endswith(f"/{row.get('file')}")
    )
    total = row.get("download_bytes")
    runtime = total - model if total is not None else None
    return f"{fmt(total, ',')} (runtime {fmt(runtime, ',')} + model {model:,})"


def _short(path: str) -> str:
    """A fetched file's name: its path under node_modules/ (two packages have an index.js), else its
    name."""
    return path.split("node_modules/", 1)[1] if "node_modules/" in path else path.rsplit("/", 1)[-1]


def _files_line(pairs: list[dict[str, dict]]) -> str:
    """The runtime files each runtime's page fetched (the model files aside), once per runtime."""
    seen: dict[str, str] = {}
    for p in pairs:
        r = next(iter(p.values()))
        names = [
            f"{_short(str(f['file']))} ({f.get('bytes') or 0:,})"
            for f in r.get("files") or ()
            if not str(f.get("file")).endswith(f"/{r.get('file')}")
        ]
        seen.setdefault(str(r.get("runtime")), ", ".join(names) or NA)
    return (
        "Files each runtime fetched besides the model (bytes): "
        + "; ".join(f"{k}: {v}" for k, v in seen.items())
        + "."
    )


def _load_line(rows: list[dict]) -> str:
    """The machine's 1-minute load average after each pair's timing: other work shows in the times."""
    loads = [r["load_1min"] for r in rows if isinstance(r.get("load_1min"), int | float)]
    cpus = next((r["cpus"] for r in rows if r.get("cpus")), None)
    if not loads:
        return "Machine load while timed: n/a."
    return (
        f"Machine load while timed (1-minute load average after each runtime's timing, {fmt(cpus)} CPUs): "
        f"{min(loads):.2f} to {max(loads):.2f}; a load above the CPU count means the rounds shared the "
        "cores with other work, which widens p10-p90 and may move a median."
    )


def _stage_verdict(mine: dict[str, dict], others: list[dict[str, dict]], stage: str) -> str:
    """Whether the wasm runtime's ``stage`` time is below every other runtime's, with the numbers."""
    row = mine.get(stage, {})
    if row.get("error") or row.get("median_s") is None:
        return f"{stage}: no lgrin.js time ({row.get('error') or 'not run'})"
    t = row["median_s"]
    beat = [
        p[stage] for p in others if stage in p and not p[stage].get("error") and p[stage]["median_s"] <= t
    ]
    if not beat:
        return f"{stage}: fastest ({duration(t)})"
    names = ", ".join(f"{r['runtime']} {r.get('precision')} {duration(r['median_s'])}" for r in beat)
    return f"{stage}: NOT fastest ({duration(t)}; at least as fast: {names})"


def _goal(pairs: list[dict[str, dict]]) -> str:
    """Whether the wasm runtime is the fastest at batch 1 and per hop and the smallest download."""
    ours = [p for p in pairs if str(next(iter(p.values())).get("runtime")).startswith(OURS)]
    if not ours:
        return "Goal (the wasm runtime fastest and the smallest download): no lgrin.js row."
    mine, others = ours[0], [p for p in pairs if p is not ours[0]]
    verdicts = [_stage_verdict(mine, others, stage) for stage in (ONE, HOP)]
    size = next(iter(mine.values())).get("download_bytes")
    sizes = [next(iter(p.values())).get("download_bytes") for p in others]
    smaller = [b for b in sizes if b is not None and size is not None and b <= size]
    verdicts.append(
        f"download: {'smallest' if size and not smaller else 'NOT smallest'} ({fmt(size, ',')} bytes)"
    )
    return "Goal, the wasm runtime the fastest and the smallest download: " + "; ".join(verdicts) + "."


def _table(pairs: list[dict[str, dict]]) -> list[str]:
    """A dataset's heading, table and goal line."""
    first = next(iter(pairs[0].values()))
    stream = f"W {fmt(first.get('window'))} / H {fmt(first.get('hop'))} frames"
    lines = [
        f"### {dataset_title(first.get('dataset'))} (M {fmt(first.get('nodes'))}, P "
        f"{fmt(first.get('features'))}; stream {stream} at {fmt(first.get('frame_rate'), 'g')} frames/s)",
        "",
        "| runtime | file | precision | download bytes | batch 1, median [p10-p90] | hop, median [p10-p90] "
        "| browser | CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in pairs:
        r = next(iter(p.values()))
        cells = [r.get("runtime"), r.get("file"), r.get("precision"), _download(r), _time(p.get(ONE)),
                 _time(p.get(HOP)), r.get("browser"), r.get("cpu")]  # fmt: skip
        lines.append("| " + " | ".join(fmt(c) for c in cells) + " |")
    return [*lines, "", _goal(pairs), ""]


def browser_markdown(rows: list[dict]) -> str:
    """The section: a table and the goal per dataset, then the notes ("" without browser benchmarks)."""
    if not rows:
        return ""
    lines = []
    for dataset in in_order([r.get("dataset") for r in rows]):
        lines += _table(_pairs([r for r in rows if r.get("dataset") == dataset]))
    notes = [
        "Every runtime in the same headless Chromium, one thread each (onnxruntime-web: "
        "env.wasm.numThreads = 1; LiteRT.js: the unthreaded wasm build, cpuOptions.numThreads = 1; the page "
        "is not cross-origin isolated), every file from a local server. Times: rounds the page timed "
        "itself with performance.now() after a warm-up (50 calls and 0.5 s at least), each round repeating "
        "its call for at least 5 ms (the page's clock is coarse: 0.1 ms) and divided by its calls; each "
        "runtime and file in a page load of its own, four passes over them in turn (the machine's other "
        "work then falls on all alike), 25 rounds a pass: median and p10-p90 of the 100 rounds. Batch 1: a "
        "Float32Array graph (1, M, P) to a Float32Array of logits (input tensor, run, logits read back). "
        "Hop: H new frames to a decision on the spec's default stream: lgrin.js's Stream.pushFrames; for "
        "the other runtimes the same ring of W frames, graph rule, one run, softmax and smoothing in JS "
        "around the run (benchmarks/web/bench.js). Download bytes: the body bytes of every file the page "
        "fetched for the runtime (its .js/.mjs and .wasm) and the model file, uncompressed. A runtime's "
        "error in place of a time: it refused the file or the stream (lgrin.js refuses the streams the "
        "native C stream refuses).",
        "",
        _files_line(_pairs(rows)),
        "",
        _load_line(rows),
    ]
    return "\n## In the browser\n\n" + "\n".join([*lines, *notes]) + "\n"
