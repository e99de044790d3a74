"""The report's section "Streaming": what one decision hop of a live stream costs (front-end + graph +
model), from the benchmarks of benchmarks/test_stream.py (extra_info ``kind`` "stream").

One row per benchmark: the stage (speech, motion), what ran it (the C stream, or the Python engine with
an exported runtime), the time per hop (median and p90 of the rounds: each round pushes one hop of
input and makes one decision), the real-time factor (time per hop over the hop's duration) and the
memory of one stream (the C stream's lgrin_stream_state_size). Under the table: the code bytes of the
stream API and of all a device links for it, the CPU, and the goal (speech RTF below 0.01 on one core at
a 10 ms frame hop and a 0.5 s decision hop; no peer runtime faster than the C stream), met or not.
"""

from __future__ import annotations

from lgrin_edge.measure.cells import NA, fmt
from lgrin_edge.measure.context import cpu_name
from lgrin_edge.measure.frontend import duration

SOURCE = "benchmarks/test_stream.py"
KIND = "stream"
C_STREAM = "C stream"  # the start of the runtime of the rows the C stream runs
SPEECH = "speech"  # the start of the speech rows' stage
GOAL_RTF = 0.01
FILE = "stream.md"


def real_time_factor(row: dict) -> float | None:
    """Time per hop over the hop's duration (below 1: faster than real time)."""
    hop = row.get("hop_s")
    return row["median_s"] / hop if hop else None


def _order(row: dict) -> tuple:
    """Speech before motion; within a stage the C stream first, then by median."""
    stage, runtime = str(row.get("stage")), str(row.get("runtime"))
    return not stage.startswith(SPEECH), stage, not runtime.startswith(C_STREAM), row["median_s"]


def _plan(row: dict) -> str:
    frames = (row.get(k) for k in ("window", "hop", "num_nodes"))
    window, hop, m = (fmt(v) for v in frames)
    return f"W {window} / H {hop} frames, M {m}"


def _code_line(rows: list[dict]) -> str:
    """The code bytes of the stream API alone and with what it links, per target."""
    c = next((r for r in rows if str(r.get("runtime")).startswith(C_STREAM)), {})
    alone = " / ".join(fmt(c.get(f"stream_code_bytes_{t}"), ",") for t in ("x86_64", "cortex_m4"))
    total = " / ".join(fmt(c.get(f"code_bytes_{t}"), ",") for t in ("x86_64", "cortex_m4"))
    return (
        f"Code bytes, x86-64 (gcc -O2) / Cortex-M4 (clang-14 -Os, thumbv7em, freestanding): the stream API "
        f"(lgrin_stream.c, lgrin_stream_spec.c, lgrin_json.c) {alone}; with the runtime, the speech "
        f"front-end and the input rules it links {total} (export/ci.sh's count: text of the objects, "
        "without libc, libm or the compiler's helpers)."
    )


def _goal(rows: list[dict]) -> str:
    """The goal's two parts, each said met or not with the numbers behind it."""
    speech = [r for r in rows if str(r.get("stage")).startswith(SPEECH)]
    c = [r for r in speech if str(r.get("runtime")).startswith(C_STREAM)]
    if not c:
        return f"Goal (speech RTF < {GOAL_RTF}, no peer faster than the C stream): no C stream row."
    rtf = real_time_factor(c[0])
    faster = [r for r in speech if r not in c and r["median_s"] < c[0]["median_s"]]
    met = rtf is not None and rtf < GOAL_RTF
    peers = (
        "no peer runtime is faster than the C stream"
        if not faster
        else "faster than the C stream: "
        + ", ".join(f"{r['runtime']} {r.get('precision')} ({duration(r['median_s'])})" for r in faster)
    )
    return (
        f"Goal, speech at a 10 ms frame hop and a 0.5 s decision hop on one core: RTF < {GOAL_RTF}: "
        f"{'met' if met else 'NOT met'} (C stream {fmt(rtf, '.2g')}); {peers}."
    )


def stream_markdown(rows: list[dict], machine: dict) -> str:
    """The section: its table, the code size, the CPU and the goal ("" without stream benchmarks)."""
    if not rows:
        return ""
    lines = [
        "| stage | runtime | precision | stream | per hop, median (p90) | RTF | stream memory bytes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=_order):
        cells = [
            fmt(r.get("stage")),
            fmt(r.get("runtime")),
            fmt(r.get("precision")),
            f"{_plan(r)}, hop {fmt(r.get('hop_s'), 'g', ' s')}",
            f"{duration(r['median_s'])} ({duration(r.get('p90_s'))})",
            fmt(real_time_factor(r), ".2g"),
            fmt(r.get("state_bytes"), ","),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    corpus = next((r["corpus"] for r in rows if r.get("corpus")), NA)
    notes = [
        "",
        "Per hop: pytest-benchmark's rounds, each pushing one decision hop of input (speech: 0.5 s of "
        "16 kHz int16 PCM, 50 frames at the 10 ms frame hop; motion: H frames' worth of samples) and "
        "making one decision: front-end, frame ring, graph rule, model, softmax and smoothing, one thread, "
        "through the Python bindings (ctypes for the C stream). RTF: time per hop over the hop's "
        "duration. Stream memory: the C stream's whole state (lgrin_stream_state_size: front-end, "
        "frame ring, graph, workspace, smoothing); n/a for the Python engine. The model file is not in it "
        f"(read-only, shared by streams). The speech model's corpus: {corpus}.",
        "",
        _code_line(rows),
        "",
        f"CPU: {cpu_name(machine) or NA}.",
        "",
        _goal(rows),
    ]
    return "\n## Streaming\n\n" + "\n".join([*lines, *notes]) + "\n"
